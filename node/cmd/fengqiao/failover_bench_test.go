package main

import (
	"net/http"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/access"
)

// BenchmarkFailover: three replicas as processes; each iteration stops the
// leader, times how long until a write through a survivor succeeds, then
// restarts the stopped replica and waits for it to catch up. kill is a crash
// (SIGKILL): the group waits out an election timeout. term is a planned stop
// (SIGTERM): the leader hands leadership over before it exits.
//
//	go test ./node/cmd/fengqiao/ -run '^$' -bench BenchmarkFailover -benchtime 20x
func BenchmarkFailover(b *testing.B) {
	b.Run("kill", func(b *testing.B) { failover(b, syscall.SIGKILL) })
	b.Run("term", func(b *testing.B) { failover(b, syscall.SIGTERM) })
}

func failover(b *testing.B, sig syscall.Signal) {
	const token = "fq_failover_bench_admin_token_5555"
	procs := startCluster(b, token)
	c := &client{token: token, http: &http.Client{Timeout: 2 * time.Second}}
	c.token = staffOf(b, c, "http://"+procs[0].http)[access.CenterAdmin]
	write := func(p *proc) bool {
		code, _, err := c.do("POST", "http://"+p.http+"/api/v1/events", map[string]any{"category": "dispute", "description": "failover", "jurisdiction": "500110001"}, nil)
		return err == nil && code == 201
	}
	for deadline := time.Now().Add(60 * time.Second); !write(procs[0]); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("cluster never took a write")
		}
	}
	var took []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l := -1
		for j, p := range procs {
			if c.leads(p) {
				l = j
			}
		}
		if l < 0 {
			b.Fatal("no leader")
		}
		start := time.Now()
		procs[l].cmd.Process.Signal(sig)
		if sig == syscall.SIGKILL {
			procs[l].cmd.Wait()
			start = time.Now() // a crash is timed from when the process is gone
		}
		// Writes have resumed once a survivor leads and a write through a
		// survivor succeeds (before that, a stopping leader may still take one).
		survivor, other := procs[(l+1)%3], procs[(l+2)%3]
		for !(c.leads(survivor) || c.leads(other)) || !write(survivor) {
			if time.Since(start) > 30*time.Second {
				b.Fatal("writes did not resume")
			}
			time.Sleep(10 * time.Millisecond)
		}
		took = append(took, time.Since(start))
		b.StopTimer()
		if sig != syscall.SIGKILL {
			procs[l].cmd.Wait()
			// A slow hand-over means the transfer failed: say why.
			if took[len(took)-1] > 500*time.Millisecond {
				b.Logf("trial %d took %v; %s's log:\n%s", i, took[len(took)-1], procs[l].id, procs[l].logs.String())
			}
		}
		startProc(b, procs[l], token)
		for !write(procs[l]) {
			time.Sleep(50 * time.Millisecond)
		}
		b.StartTimer()
	}
	b.StopTimer()
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	b.ReportMetric(float64(took[len(took)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(took[(len(took)*99+99)/100-1].Milliseconds()), "p99-ms")
	b.ReportMetric(float64(took[len(took)-1].Milliseconds()), "max-ms")
}
