package core

import (
	"context"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIntake256: 256 callers reporting into an embedded store at once,
// each report durable (fsync) when its call returns, as a 综治中心's intake
// runs. It reports the throughput, the process CPU per report, and the time
// the single apply loop spends per report (ApplyBatch, commit and fsync
// included) — apply-µs/report is the ceiling's share: the loop is one
// goroutine, so 1e6/apply-µs is the most reports/s it can take.
func BenchmarkIntake256(b *testing.B) {
	var applyNs, applied atomic.Int64
	e := newEnvWith(b, true, state.EngineOptions{OnApply: func(entries, rejected int, took time.Duration) {
		applyNs.Add(int64(took))
		applied.Add(int64(entries))
	}})
	e.withCounty(b)
	grids, _, _ := e.Grids.List("511083", "", 1000)
	const callers = 256
	ctx := context.Background()
	var next atomic.Int64
	applyNs.Store(0)
	applied.Store(0)
	cpu0 := cpuTime(b)
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := 0; w < callers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				r := model.Report{Category: "dispute", Description: "邻里纠纷，双方因噪音发生争执", Grid: grids[int(i)%len(grids)].Code, Source: "resident"}
				if _, err := e.Events.Report(ctx, r); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	cpu := cpuTime(b) - cpu0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/report")
	b.ReportMetric(float64(applyNs.Load())/1e3/float64(applied.Load()), "apply-µs/report")
}
