package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// The session says what core/access says, per role: the console offers
// exactly this.
func TestSessionFollowsAccess(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		role, scope string
		perm        string
		absent      string
		action      string
		noAction    string
	}{
		{access.GridWorker, "511083001001001", "report", "reveal", "resolve", "accept"},
		{access.TownshipOperator, "511083001", "reveal", "system", "dispatch", ""},
		{access.DepartmentHandler, "511083", "act", "report", "sign", "accept"},
		{access.SystemAdmin, "511083", "system", "read", "", "comment"},
	} {
		var v sessionView
		resp, _ := f.do("GET", "/api/v1/session", f.issue(c.role, c.scope), nil, &v)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", c.role, resp.StatusCode)
		}
		if v.Token.Role != c.role || v.Token.Scope != c.scope || v.Node != "511083" || v.NodeName == "" || v.ScopeName == "" {
			t.Errorf("%s: %+v", c.role, v)
		}
		if !slices.Contains(v.Perms, c.perm) || slices.Contains(v.Perms, c.absent) || !slices.Contains(v.Perms, "self") {
			t.Errorf("%s: perms %v, want %s and not %s", c.role, v.Perms, c.perm, c.absent)
		}
		var acts []string
		for _, a := range v.Actions {
			acts = append(acts, a.Action)
		}
		if c.action != "" && !slices.Contains(acts, c.action) || c.noAction != "" && slices.Contains(acts, c.noAction) {
			t.Errorf("%s: actions %v, want %q and not %q", c.role, acts, c.action, c.noAction)
		}
	}
	if resp, _ := f.do("GET", "/api/v1/session", "fq_nonsense", nil, nil); resp.StatusCode != 401 {
		t.Errorf("a bad token: %d, want 401", resp.StatusCode)
	}
}

// sseEvent is one server-sent event.
type sseEvent struct{ id, name, data string }

// readEvents reads server-sent events (comments skipped) onto a channel.
func readEvents(resp *http.Response) <-chan sseEvent {
	ch := make(chan sseEvent, 16)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.name = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	return ch
}

func openStream(t *testing.T, f *fixture, token, query string) (<-chan sseEvent, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/api/v1/changes/stream"+query, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return readEvents(resp), cancel
}

func next(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("the stream ended")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return sseEvent{}
}

// A change reaches an open stream without polling, and only the tokens
// whose scope holds it: the sibling township's stream stays quiet.
func TestChangeStreamLive(t *testing.T) {
	f := newFixture(t)
	mine, _ := openStream(t, f, f.town, "")
	other, _ := openStream(t, f, f.issue(access.TownshipOperator, "511083002"), "")
	for _, ch := range []<-chan sseEvent{mine, other} {
		if ev := next(t, ch); ev.name != "hello" {
			t.Fatalf("first event %+v, want hello", ev)
		}
	}
	var ev model.Event
	if resp, _ := f.do("POST", "/api/v1/events", f.admin, map[string]any{"category": "dispute", "description": "实时", "grid": "511083001001001"}, &ev); resp.StatusCode != 201 {
		t.Fatalf("report: %d", resp.StatusCode)
	}
	got := next(t, mine)
	var page model.ChangePage
	if err := json.Unmarshal([]byte(got.data), &page); err != nil || got.name != "changes" {
		t.Fatalf("%+v: %v", got, err)
	}
	if len(page.Changes) == 0 || page.Changes[len(page.Changes)-1].ID != ev.ID || got.id == "" {
		t.Fatalf("the stream's page %+v does not end with event %s", page, ev.ID)
	}
	select {
	case e := <-other:
		t.Fatalf("the sibling township's stream heard %+v", e)
	case <-time.After(300 * time.Millisecond):
	}
	// Resuming from the id given replays nothing already sent; from 0 it
	// replays the report.
	again, _ := openStream(t, f, f.town, "?after=0")
	next(t, again)
	if e := next(t, again); !strings.Contains(e.data, ev.ID) {
		t.Errorf("replay from 0: %+v", e)
	}
}

func TestChangeStreamRefusesBadPosition(t *testing.T) {
	f := newFixture(t)
	resp, m := f.do("GET", "/api/v1/changes/stream?after=yesterday", f.town, nil, nil)
	if resp.StatusCode != 400 || m["field"] != "after" {
		t.Fatalf("%d %v", resp.StatusCode, m)
	}
	// A position the feed's retention has passed: 409 before any stream.
	defer func(n, c uint64) { state.ChangeRetention, state.ChangeChunk = n, c }(state.ChangeRetention, state.ChangeChunk)
	state.ChangeRetention, state.ChangeChunk = 10, 1
	var ev model.Event
	f.do("POST", "/api/v1/events", f.admin, map[string]any{"category": "dispute", "description": "旧", "grid": "511083001001001"}, &ev)
	for range 24 {
		f.do("POST", "/api/v1/events/"+ev.ID+"/actions", f.admin, map[string]any{"action": "comment", "note": "n"}, nil)
	}
	resp, m = f.do("GET", "/api/v1/changes/stream?after=1", f.town, nil, nil)
	if resp.StatusCode != 409 || m["field"] != "after" || resp.Header.Get("Content-Type") == "text/event-stream" {
		t.Fatalf("behind the retention: %d %v", resp.StatusCode, m)
	}
}
