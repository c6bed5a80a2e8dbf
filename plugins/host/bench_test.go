package host

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/plugins/sdk"
)

// inProcess is the test plugin's ValidateEvent, called directly: the
// baseline a hook over go-plugin is compared with.
type inProcess struct{}

func (inProcess) ValidateEvent(_ context.Context, r model.Report, _ string) ([]sdk.Problem, error) {
	if !strings.Contains(r.Description, "网格") {
		return []sdk.Problem{{Field: "description", Rule: "echo.grid", Message: "say which 网格"}}, nil
	}
	return nil, nil
}

// BenchmarkHookCall: one ValidateEvent over go-plugin's gRPC (AutoMTLS, a
// Unix socket) against the same check called in process, and against
// go-plugin's own health ping to the same process (the transport's floor),
// alternated call by call in the same run; both hook paths encode the
// report as the host must.
func BenchmarkHookCall(b *testing.B) {
	bin, sum := buildTB(b, "../sdk/testdata/echo")
	p, err := Start(context.Background(), Config{Name: "echo", Path: bin, SHA256: sum, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Kill()
	r := model.Report{Category: "dispute", Description: "网格内邻里纠纷", Grid: "500110001001001"}
	ctx := context.Background()
	var direct sdk.EventValidator = inProcess{}
	rpc := make([]time.Duration, 0, b.N)
	local := make([]time.Duration, 0, b.N)
	ping := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// The transport's floor: go-plugin's health ping to the same
		// process, over the same connection.
		tp := time.Now()
		if err := p.Ping(); err != nil {
			b.Fatal(err)
		}
		ping = append(ping, time.Since(tp))
		t0 := time.Now()
		if _, err := p.ValidateEvent(ctx, &r, "500110"); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		raw, _ := json.Marshal(r)
		var back model.Report
		json.Unmarshal(raw, &back)
		if _, err := direct.ValidateEvent(ctx, back, "500110"); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		rpc, local = append(rpc, t1.Sub(t0)), append(local, t2.Sub(t1))
	}
	b.StopTimer()
	p50 := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	p99 := func(d []time.Duration) time.Duration { return d[len(d)*99/100] }
	b.ReportMetric(float64(p50(rpc).Nanoseconds())/1e3, "grpc-p50-µs")
	b.ReportMetric(float64(p99(rpc).Nanoseconds())/1e3, "grpc-p99-µs")
	b.ReportMetric(float64(p50(local).Nanoseconds())/1e3, "direct-p50-µs")
	b.ReportMetric(float64(p50(ping).Nanoseconds())/1e3, "ping-p50-µs")
}

// BenchmarkIntakeWithPlugins: 256 callers reporting into an embedded store,
// each report durable on return (as core's BenchmarkIntake256), with one
// validating and one routing plugin, against the same store with the
// hooks taken out, alternated round by round in the same run.
func BenchmarkIntakeWithPlugins(b *testing.B) {
	s, m, grids := benchNode(b, Options{}, "benchvalidate", "benchroute")
	ctx := core.WithActor(context.Background(), "bench")
	intake := func(n int) time.Duration {
		var next atomic.Int64
		var wg sync.WaitGroup
		t0 := time.Now()
		for range 256 {
			wg.Go(func() {
				for i := next.Add(1); i <= int64(n); i = next.Add(1) {
					r := model.Report{Category: "dispute", Description: "邻里纠纷，双方因噪音发生争执", Grid: grids[int(i)%len(grids)].Code, Source: "resident"}
					if _, err := s.Events.Report(ctx, r); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		return time.Since(t0)
	}
	const rounds = 10
	per := max(b.N/(2*rounds), 1)
	var plain, hooked time.Duration
	b.ResetTimer()
	for range rounds {
		s.SetHooks(nil)
		plain += intake(per)
		s.SetHooks(timed{m})
		hooked += intake(per)
	}
	b.StopTimer()
	total := float64(per * rounds)
	b.ReportMetric(total/plain.Seconds(), "plain-reports/s")
	b.ReportMetric(total/hooked.Seconds(), "plugins-reports/s")
	b.ReportMetric(100*(1-plain.Seconds()/hooked.Seconds()), "%-fewer")
	b.ReportMetric(float64(hookNs.Load())/1e3/float64(max(hookN.Load(), 1)), "hook-µs/report")
}

// timed measures how long a report spends in the plugins' hooks.
type timed struct{ m *Manager }

var hookNs, hookN atomic.Int64

func (t timed) BeforeReport(ctx context.Context, r *model.Report) error {
	t0 := time.Now()
	err := t.m.BeforeReport(ctx, r)
	hookNs.Add(int64(time.Since(t0)))
	hookN.Add(1)
	return err
}

// BenchmarkTransitionLag: reports at 1,000 a second into an embedded store
// (durable on return) with one plugin hearing the change feed on the
// leader's delivery loop. lag is from the moment a report's call returned
// (applied and durable) to the moment the plugin is called with its change
// (0 when the plugin heard of it first); stamp-lag is from the command's
// stamp, before it was proposed, so it holds the apply queue too.
func BenchmarkTransitionLag(b *testing.B) {
	var mu sync.Mutex
	var stamped []time.Duration
	var last uint64 // the newest change handed over
	heard := map[string]time.Time{}
	s, m, grids := benchNode(b, Options{OnDeliver: func(_ string, changes []model.Change) {
		now := time.Now()
		mu.Lock()
		for _, ch := range changes {
			stamped = append(stamped, now.Sub(ch.At))
			heard[ch.ID] = now
			last = max(last, ch.Seq)
		}
		mu.Unlock()
	}}, "benchfeed")
	ctx := core.WithActor(context.Background(), "bench")
	var rmu sync.Mutex
	returned := map[string]time.Time{}
	lctx, stop := context.WithCancel(context.Background())
	var loop sync.WaitGroup
	loop.Go(func() { m.RunLeader(lctx) })
	// The setup's own changes are handed over first; the measure starts after.
	_, newest, _ := s.Changes.Bounds()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		done := last >= newest
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("the setup's changes were never handed over")
		}
	}
	mu.Lock()
	stamped, heard = stamped[:0], map[string]time.Time{}
	mu.Unlock()
	b.ResetTimer()
	work := make(chan int)
	var wg sync.WaitGroup
	for range 128 { // enough that a slow fsync does not hold the pace back
		wg.Go(func() {
			for i := range work {
				r := model.Report{Category: "dispute", Description: "邻里纠纷", Grid: grids[i%len(grids)].Code, Source: "resident"}
				ev, err := s.Events.Report(ctx, r)
				if err != nil {
					b.Error(err)
					continue
				}
				rmu.Lock()
				returned[ev.ID] = time.Now()
				rmu.Unlock()
			}
		})
	}
	t0 := time.Now()
	for i := range b.N {
		// 1,000 a second by the schedule, not a ticker (which drops ticks
		// when it is late): a late report is sent at once.
		time.Sleep(time.Until(t0.Add(time.Duration(i) * time.Millisecond)))
		work <- i
	}
	close(work)
	wg.Wait()
	rate := float64(b.N) / time.Since(t0).Seconds()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		all := true
		for id := range returned {
			if _, ok := heard[id]; !ok {
				all = false
				break
			}
		}
		mu.Unlock()
		if all || time.Now().After(deadline) {
			break
		}
	}
	b.StopTimer()
	stop()
	loop.Wait()
	mu.Lock()
	defer mu.Unlock()
	var lags []time.Duration
	for id, at := range returned {
		h, ok := heard[id]
		if !ok {
			b.Fatalf("the change of %s was never handed over", id)
		}
		lags = append(lags, max(h.Sub(at), 0))
	}
	ms := func(d []time.Duration, q float64) float64 {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return float64(d[int(float64(len(d)-1)*q)].Microseconds()) / 1e3
	}
	b.ReportMetric(rate, "transitions/s")
	b.ReportMetric(ms(lags, 0.5), "lag-p50-ms")
	b.ReportMetric(ms(lags, 0.99), "lag-p99-ms")
	b.ReportMetric(ms(stamped, 0.99), "stamp-lag-p99-ms")
}

// benchNode is an embedded store, durable, with 隆昌市 loaded and the named
// test plugins built, registered, enabled and running; o adds to the
// manager's options. The store and the plugins stop with the benchmark.
func benchNode(b *testing.B, o Options, plugins ...string) (*core.Store, *Manager, []*model.Grid) {
	s, err := core.Open(b.TempDir(), core.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ctx := core.WithActor(context.Background(), "bench")
	if _, err := s.Jurisdictions.LoadCounty(ctx, "511083", 2); err != nil {
		b.Fatal(err)
	}
	grids, _, _ := s.Grids.List("511083", "", 1000)
	o.Store, o.Dir, o.Node, o.Logger = s, b.TempDir(), "local", slog.New(slog.DiscardHandler)
	m := NewManager(o)
	b.Cleanup(m.stopAll)
	for _, name := range plugins {
		bin, sum := buildTB(b, "./testdata/"+name)
		raw, _ := os.ReadFile(bin)
		if err := os.WriteFile(filepath.Join(o.Dir, name), raw, 0o755); err != nil {
			b.Fatal(err)
		}
		v, err := m.Register(ctx, Registration{File: name, SHA256: sum, Jurisdictions: []string{"511083"}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.EnableWhenReported(ctx, v.Name, v.Version, []string{"local"}); err != nil {
			b.Fatal(err)
		}
	}
	if err := m.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	for _, name := range plugins {
		sup, _ := m.Supervisor(name)
		if _, err := sup.Wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return s, m, grids
}
