package api

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/model"
)

// BenchmarkExportEvents exports every event of the county through the API,
// as XLSX and (the baseline, in the same run) as CSV, at two sizes, and
// reports the peak of the Go heap during each export above the heap before
// it: bounded memory shows as a peak that does not grow with the export.
//
//	go test ./node/api/ -run '^$' -bench BenchmarkExportEvents -benchtime 1x
func BenchmarkExportEvents(b *testing.B) {
	for _, n := range exportSizes {
		f := newFixture(&testing.T{})
		f.t = &testing.T{}
		ctx := core.WithActor(context.Background(), "bench")
		grids := []string{"511083001001001", "511083001002001", "511083002001001"}
		made := 0
		if _, err := f.b.s.Events.ImportFrom(ctx, n, func() (model.Report, bool) {
			if made == n {
				return model.Report{}, false
			}
			made++
			return model.Report{Category: "dispute", Description: fmt.Sprintf("第 %d 号事件：楼道堆物，影响通行，请尽快处理", made),
				Grid: grids[made%len(grids)], Source: "hotline_12345"}, true
		}, func(int, int) {}); err != nil {
			b.Fatal(err)
		}
		for _, format := range []string{"xlsx", "csv"} {
			b.Run(fmt.Sprintf("%s/%d", format, n), func(b *testing.B) {
				for range b.N {
					runtime.GC()
					base := heapInUse()
					var peak atomic.Uint64
					stop := make(chan struct{})
					done := make(chan struct{})
					go func() { // sample the heap while the export runs
						defer close(done)
						for {
							if h := heapInUse(); h > peak.Load() {
								peak.Store(h)
							}
							select {
							case <-stop:
								return
							case <-time.After(5 * time.Millisecond):
							}
						}
					}()
					t0 := time.Now()
					resp := f.raw("GET", "/api/v1/events/export?format="+format, f.admin, nil)
					size, err := io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					took := time.Since(t0)
					close(stop)
					<-done
					if err != nil || resp.StatusCode != 200 {
						b.Fatalf("export: %d %v", resp.StatusCode, err)
					}
					b.ReportMetric(took.Seconds(), "s/export")
					b.ReportMetric(float64(n)/took.Seconds(), "rows/s")
					b.ReportMetric(float64(peak.Load()-min(base, peak.Load()))/(1<<20), "peak-heap-MiB")
					b.ReportMetric(float64(size)/(1<<20), "file-MiB")
				}
			})
		}
		f.b.s.Close()
	}
}

func heapInUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// exportSizes are the exports BenchmarkExportEvents measures;
// FENGQIAO_EXPORT_BIG=1 adds 300,000 to show the heap's peak levels off.
var exportSizes = func() []int {
	if os.Getenv("FENGQIAO_EXPORT_BIG") != "" {
		return []int{10_000, 100_000, 300_000}
	}
	return []int{10_000, 100_000}
}()
