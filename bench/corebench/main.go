// Command corebench measures the core library at scale in one process:
// bulk import of N events (durable transactions), events by grid+status,
// jurisdiction figures, and resident memory. docs/benchmarks.md quotes it.
//
//	go run ./bench/corebench -events 1000000
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"

	"github.com/fengqiao/fengqiao/bench/internal/procstat"
)

func main() {
	n := flag.Int("events", 1000000, "events to import")
	queries := flag.Int("queries", 20000, "queries per measurement")
	keep := flag.String("data", "", "data directory to use and keep (default: temporary, removed)")
	flag.Parse()
	if err := run(*n, *queries, *keep); err != nil {
		log.Fatal(err)
	}
}

func run(n, queries int, dir string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "corebench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	store, err := core.Open(dir, core.Options{})
	if err != nil {
		return err
	}
	defer func() { store.Close() }()
	ctx := context.Background()
	t0 := time.Now()
	d, err := store.Jurisdictions.LoadCounty(ctx, "500110", 2)
	if err != nil {
		return err
	}
	fmt.Printf("setup: 綦江区 with %d grids in %v\n", len(d.Grids), time.Since(t0).Round(time.Millisecond))

	cats := []string{"dispute", "sanitation", "work_safety", "urban_management", "fire_safety", "public_security"}
	rng := rand.New(rand.NewSource(1))
	made := 0
	next := func() (model.Report, bool) {
		if made == n {
			return model.Report{}, false
		}
		made++
		return model.Report{Category: cats[rng.Intn(len(cats))], Description: "批量导入的网格事件，用于基准测试",
			Grid: d.Grids[rng.Intn(len(d.Grids))].Code, Source: "hotline_12345"}, true
	}
	t0 = time.Now()
	last := time.Now()
	done, err := store.Events.ImportFrom(ctx, n, next, func(done, total int) {
		if time.Since(last) > 5*time.Second || done == total {
			last = time.Now()
			fmt.Fprintf(os.Stderr, "  imported %d/%d (%.0f/s)\n", done, total, float64(done)/time.Since(t0).Seconds())
		}
	})
	if err != nil {
		return err
	}
	el := time.Since(t0)
	runtime.GC()
	cur, peak := procstat.RSS()
	fmt.Printf("import: %d events in %v = %.0f events/s (durable, %d per transaction); RSS %s, peak %s\n",
		done, el.Round(time.Millisecond), float64(done)/el.Seconds(), state.ImportBatch, cur, peak)

	// Move some events along so statuses vary.
	page, err := store.Events.List(model.Query{Jurisdiction: "500110", Limit: 500})
	if err != nil {
		return err
	}
	for _, ev := range page.Events {
		if _, err := store.Events.Act(ctx, ev.ID, model.Action{Action: "accept"}); err != nil {
			return err
		}
	}

	// Serving memory: a fresh open of the store with 1M events, as a node
	// that restarts would have it; the import above is a one-off.
	if err := store.Close(); err != nil {
		return err
	}
	runtime.GC()
	debug.FreeOSMemory()
	if store, err = core.Open(dir, core.Options{}); err != nil {
		return err
	}
	cur, peak = procstat.RSS()
	fmt.Printf("reopened: RSS %s\n", cur)

	statuses := []model.Status{model.StatusReported, model.StatusAccepted}
	lat := make([]time.Duration, 0, queries)
	rows := 0
	for i := 0; i < queries; i++ {
		q := model.Query{Grid: d.Grids[rng.Intn(len(d.Grids))].Code, Status: statuses[rng.Intn(2)], Limit: 50}
		t := time.Now()
		p, err := store.Events.List(q)
		if err != nil {
			return err
		}
		lat = append(lat, time.Since(t))
		rows += len(p.Events)
	}
	p50, p99 := procstat.Percentiles(lat)
	fmt.Printf("events by grid+status (limit 50) over %d events: p50 %v, p99 %v, %.1f rows/query\n", done, p50, p99, float64(rows)/float64(queries))

	towns, _ := store.Jurisdictions.Children("500110")
	scopes := []string{"500110", "500000"}
	for _, t := range towns {
		scopes = append(scopes, t.Code)
	}
	lat = lat[:0]
	for i := 0; i < queries; i++ {
		t := time.Now()
		f, err := store.Events.Figures(scopes[rng.Intn(len(scopes))], "", "")
		if err != nil {
			return err
		}
		lat = append(lat, time.Since(t))
		if f.Scope == "500110" && f.Reported != int64(done) {
			return fmt.Errorf("figures say %d reported, want %d", f.Reported, done)
		}
	}
	p50, p99 = procstat.Percentiles(lat)
	fmt.Printf("jurisdiction figures: p50 %v, p99 %v\n", p50, p99)
	runtime.GC()
	cur, _ = procstat.RSS()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st, _ := os.Stat(store.Engine().Path())
	fmt.Printf("serving memory after queries: RSS %s (import peak was %s), Go heap %d MiB; state file %d MiB\n", cur, peak, ms.HeapAlloc>>20, st.Size()>>20)
	return nil
}
