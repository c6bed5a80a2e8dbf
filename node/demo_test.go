package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDemoFederation runs `fengqiao demo` in process and checks, over HTTP
// as a user would, that the federation works end to end: every node prints
// its line, the pool knows all fifteen leaders, township escalations reach
// the city, the 荣昌–隆昌 case is readable at both sides under one id with
// one timeline, and the 武侯→綦江 handover is accepted.
func TestDemoFederation(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo federation takes a while")
	}
	const token = "fq_demo_test_token_0123456789abcdef"
	// Below Linux's ephemeral range (32768 up), where the :0 listeners of
	// tests running alongside can take a port between our check and bind,
	// and below 20000, where node/cmd/fengqiao's cluster tests pick theirs.
	base := 10000 + rand.IntN(98)*100
	var out lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- RunDemo(ctx, DemoOptions{BasePort: base, Data: t.TempDir(), Token: token, Out: &out,
			Logger: slog.New(slog.DiscardHandler), Traffic: 200 * time.Millisecond})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	})
	url := func(i int) string { return fmt.Sprintf("http://127.0.0.1:%d", base+i) }
	get := func(i int, path string, v any) bool {
		req, _ := http.NewRequest("GET", url(i)+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(v) == nil
	}
	wait := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			select {
			case err := <-done:
				t.Fatalf("the demo stopped: %v", err)
			default:
			}
			if cond() {
				return
			}
		}
		t.Fatalf("timed out waiting for %s\noutput:\n%s", what, out.String())
	}
	// Node order is demoLayout's: 0 重庆市, 2 荣昌区, 4 武侯区, 6 隆昌市, 1 綦江区.
	wait("every node's CODE NAME URL line and the ready block", func() bool { return strings.Contains(out.String(), "demo ready") })
	if !strings.Contains(out.String(), "500153 荣昌区 "+url(2)) {
		t.Fatalf("output lines: %s", out.String())
	}
	// One ready block, last: the console, the phone view, the token, what to try.
	ready := out.String()[strings.Index(out.String(), "枫桥 demo ready"):]
	for _, want := range []string{"15 jurisdictions", url(1) + "/ ", url(1) + "/m/", "fq_", "一张图", url(2) + "/#/federation", "discovery.json"} {
		if !strings.Contains(ready, want) {
			t.Errorf("the ready block lacks %q:\n%s", want, ready)
		}
	}
	if strings.Count(out.String(), "demo ready") != 1 {
		t.Errorf("the ready block is printed %d times", strings.Count(out.String(), "demo ready"))
	}
	wait("fifteen leaders in the pool view", func() bool {
		var v struct{ Leaders map[string]string }
		return get(0, "/api/v1/federation/members", &v) && len(v.Leaders) == 15
	})
	wait("a township escalation at the city", func() bool {
		var v struct{ Events []struct{ ID, Origin string } }
		if !get(0, "/api/v1/events?jurisdiction=500000", &v) {
			return false
		}
		for _, e := range v.Events {
			// Numbered by a township, sent up by its county: escalated twice.
			if num, _, _ := strings.Cut(e.ID, "-"); len(num) == 9 && len(e.Origin) == 6 {
				return true
			}
		}
		return false
	})
	type kase struct {
		ID      string
		Entries []struct{ ID string }
	}
	wait("one case, one timeline, at both sides", func() bool {
		var a, b struct{ Cases []kase }
		if !get(2, "/api/v1/cases", &a) || !get(6, "/api/v1/cases", &b) || len(a.Cases) != 1 || len(b.Cases) != 1 || a.Cases[0].ID != b.Cases[0].ID {
			return false
		}
		var ca, cb kase
		id := a.Cases[0].ID
		if !get(2, "/api/v1/cases/"+id, &ca) || !get(6, "/api/v1/cases/"+id, &cb) || len(ca.Entries) < 4 {
			return false
		}
		x, _ := json.Marshal(ca.Entries)
		y, _ := json.Marshal(cb.Entries)
		return bytes.Equal(x, y)
	})
	wait("a county's own figures at the city, from its rollup", func() bool {
		var v struct {
			Source   string
			Reported int
		}
		return get(0, "/api/v1/stats?jurisdiction=500110", &v) && v.Source == "rollup" && v.Reported > 0
	})
	wait("the city's own figures as the sum of its groups' rollups", func() bool {
		var v struct {
			Source   string
			Reported int64
			Parts    []struct {
				Code    string
				Figures struct{ Reported int64 }
			}
		}
		if !get(0, "/api/v1/stats", &v) || v.Source != "rollups" || len(v.Parts) < 3 {
			return false
		}
		var sum int64
		for _, p := range v.Parts {
			if !strings.HasPrefix(p.Code, "50") {
				t.Fatalf("重庆市 sums %s", p.Code)
			}
			sum += p.Figures.Reported
		}
		return sum == v.Reported && sum > 0
	})
	wait("links quiet with nothing refused", func() bool {
		var v struct {
			Links []struct {
				Peer    string
				Refused int
			}
		}
		if !get(0, "/api/v1/federation/links", &v) || len(v.Links) != 2 {
			return false
		}
		for _, l := range v.Links {
			if l.Refused != 0 {
				t.Fatalf("refusals on %s", l.Peer)
			}
		}
		return true
	})
}

// lockedBuffer lets the test read what the demo prints while it prints.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
