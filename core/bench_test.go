package core

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"

	"go.etcd.io/bbolt"
)

func percentiles(b *testing.B, lat []time.Duration, prefix string) time.Duration {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p50 := lat[len(lat)/2]
	b.ReportMetric(float64(p50.Microseconds()), prefix+"p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), prefix+"p99-µs")
	return p50
}

// BenchmarkReportDurable: one caller reporting events, each durable (fsync)
// when the call returns. The baseline, a bare fsync'd bbolt put of a value the
// size of an event record (same bbolt options), is interleaved with it op by
// op, so both see the same disk.
func BenchmarkReportDurable(b *testing.B) {
	e := newEnv(b, true)
	e.withCounty(b)
	ctx := context.Background()
	r := model.Report{Category: "dispute", Description: "邻里纠纷，双方因噪音发生争执", Grid: "511083001001001", Source: "resident"}
	ev, _ := e.Events.Report(ctx, r)
	raw, _ := json.Marshal(ev)
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "bare.db"), 0o600, &bbolt.Options{FreelistType: bbolt.FreelistMapType})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	lat := make([]time.Duration, 0, b.N)
	base := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		err := db.Update(func(tx *bbolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("b"))
			if err != nil {
				return err
			}
			return bk.Put([]byte(fmt.Sprintf("k%09d", i)), raw)
		})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := e.Events.Report(ctx, r); err != nil {
			b.Fatal(err)
		}
		base = append(base, t1.Sub(t0))
		lat = append(lat, time.Since(t1))
	}
	b.StopTimer()
	p50 := percentiles(b, lat, "")
	bp50 := percentiles(b, base, "bolt-")
	b.ReportMetric(float64(p50)/float64(bp50), "x-bolt")
}

// BenchmarkImport: bulk import, 1,000 events per durable transaction.
func BenchmarkImport(b *testing.B) {
	e := newEnv(b, true)
	e.withCounty(b)
	grids, _, _ := e.Grids.List("511083", "", 1000)
	const n = 100000
	reports := make([]model.Report, n)
	for i := range reports {
		reports[i] = model.Report{Category: []string{"dispute", "sanitation", "work_safety"}[i%3], Description: "批量导入事件",
			Grid: grids[i%len(grids)].Code, Source: "hotline_12345"}
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if done, err := e.Events.Import(ctx, reports, nil); err != nil || done != n {
			b.Fatal(done, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}

// reportData is the encoded command of the report the apply benchmarks
// repeat, in a county-loaded env.
func reportData(b *testing.B, e *env) []byte {
	r := model.Report{Category: "dispute", Description: "邻里纠纷，双方因噪音发生争执", Grid: "511083001001001", Source: "resident"}
	cmd, err := e.Events.ReportCommand(e.ctx, r)
	if err != nil {
		b.Fatal(err)
	}
	data, err := cmd.Encode()
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkApplyReports: the engine alone applying report commands in
// batches, no fsync: the per-replica cost every Raft replica pays per report.
func BenchmarkApplyReports(b *testing.B) {
	for _, n := range []int{128, 1024} {
		b.Run(fmt.Sprint("batch=", n), func(b *testing.B) {
			e := newEnv(b, false)
			e.withCounty(b)
			data := reportData(b, e)
			b.ReportAllocs()
			b.ResetTimer()
			applyReports(b, e, data, b.N, n)
		})
	}
}

// applyReports applies count copies of the command data to e's engine in
// batches of n, as Raft delivers entries to the FSM.
func applyReports(b *testing.B, e *env, data []byte, count, n int) {
	idx, _ := e.Store.engine.AppliedIndex()
	batch := make([]state.Entry, n)
	for done := 0; done < count; done += n {
		for j := range batch {
			idx++
			batch[j] = state.Entry{Index: idx, Data: data}
		}
		res, err := e.Store.engine.ApplyBatch(batch[:min(n, count-done)])
		if err != nil {
			b.Fatal(err)
		}
		if res[0].Err != nil {
			b.Fatal(res[0].Err)
		}
	}
}

// BenchmarkOrgsPage: one page of 50 orgs under one township of a county
// holding 10,000 orgs spread over its townships, read through the place
// index, against the scan of every org that listing did before the index
// (same file, same run).
func BenchmarkOrgsPage(b *testing.B) {
	e := newEnv(b, false)
	e.withCounty(b)
	towns, err := e.Jurisdictions.Children("511083")
	if err != nil || len(towns) < 2 {
		b.Fatalf("townships: %d %v", len(towns), err)
	}
	for i := 0; i < 10000; i++ {
		o := model.Org{ID: fmt.Sprintf("org%05d", i), Name: "党组织", Kind: model.OrgCommittee, Jurisdiction: towns[i%len(towns)].Code}
		if _, err := e.Party.PutOrg(e.ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	town := towns[0].Code
	b.Run("index", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if orgs, _, err := e.Party.Orgs(town, "", 50); err != nil || len(orgs) != 50 {
				b.Fatal(len(orgs), err)
			}
		}
	})
	b.Run("scan", func(b *testing.B) {
		pre := state.PrefixOf(town)
		for i := 0; i < b.N; i++ {
			var orgs []model.Org
			err := e.Engine().View(func(tx *bbolt.Tx) (err error) {
				orgs, _, err = state.PageValues(tx, state.BucketOrg, nil, nil, 50, nil, func(o *model.Org) bool { return strings.HasPrefix(o.Jurisdiction, pre) })
				return err
			})
			if err != nil || len(orgs) != 50 {
				b.Fatal(len(orgs), err)
			}
		}
	})
}
