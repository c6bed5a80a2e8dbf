package exchange

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
)

// BenchmarkLinkThroughput: one peer link between two single-replica groups
// with fsync on. The sender's outbox is filled first (b.N case entries,
// written by 64 callers), then the shippers start; the figure is messages
// taking effect at the receiver per second, acknowledged and trimmed.
func BenchmarkLinkThroughput(b *testing.B) {
	f := newFederation(b)
	f.durable = true
	a := f.startPaused("500153", model.Link{Peer: "511083", Relation: model.RelPeer})
	r := f.start("511083", 1, model.Link{Peer: "500153", Relation: model.RelPeer})
	ctx := context.Background()
	cs, err := a.leader(b).Cases.Open(ctx, "基准", "", []string{"511083"})
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < b.N; i += 64 {
				if _, err := a.leader(b).Cases.AddEntry(ctx, cs.ID, fmt.Sprint("记录 ", i)); err != nil {
					b.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	b.ResetTimer()
	start := time.Now()
	a.resume(f)
	want := uint64(b.N + 1)
	for {
		ls, _ := r.leader(b).Federation.Links()
		if ls[0].Received >= want {
			break
		}
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(want)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkCaseEntryVisible: an entry written at one participant, until the
// other can read it; loopback, no faults, fsync on.
func BenchmarkCaseEntryVisible(b *testing.B) {
	f := newFederation(b)
	f.durable = true
	a := f.start("500153", 1, model.Link{Peer: "511083", Relation: model.RelPeer})
	r := f.start("511083", 1, model.Link{Peer: "500153", Relation: model.RelPeer})
	ctx := context.Background()
	cs, err := a.leader(b).Cases.Open(ctx, "基准", "", []string{"511083"})
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		e, err := a.leader(b).Cases.AddEntry(ctx, cs.ID, fmt.Sprint("记录 ", i))
		if err != nil {
			b.Fatal(err)
		}
		for {
			c, err := r.leader(b).Cases.Get(cs.ID)
			if err == nil && len(c.Entries) > 0 && c.Entries[len(c.Entries)-1].ID == e.ID {
				break
			}
			time.Sleep(200 * time.Microsecond)
		}
		lat = append(lat, time.Since(t0))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
