package core

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// seedPlaceIndex writes into the closed state file at path the l/ keys an
// older version kept, derived from the status index, and returns how many.
func seedPlaceIndex(tb testing.TB, path string) int {
	tb.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	var old [][]byte
	db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(state.BucketEvIndex).Cursor()
		for k, _ := c.Seek([]byte(state.IxStatus)); k != nil && bytes.HasPrefix(k, []byte(state.IxStatus)); k, _ = c.Next() {
			rest := k[len(state.IxStatus):]
			rest = rest[bytes.IndexByte(rest, '/')+1:] // <loc>/<id>
			old = append(old, append([]byte(state.IxLoc), rest...))
		}
		return nil
	})
	seeded := len(old)
	for len(old) > 0 { // in chunks, so a large seed does not hold it all dirty
		n := min(len(old), 100000)
		if err := db.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket(state.BucketEvIndex)
			for _, k := range old[:n] {
				if err := b.Put(k, nil); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			tb.Fatal(err)
		}
		old = old[n:]
	}
	return seeded
}

// A file written while the place index (l/<loc>/<id>) was still kept loses
// those keys on open, and ends up identical to one built today.
func TestOpenDropsRetiredPlaceIndex(t *testing.T) {
	defer func(n int) { state.DropChunk = n }(state.DropChunk)
	state.DropChunk = 7 // several chunks
	e := newEnv(t, false)
	e.withCounty(t)
	for i := 0; i < 40; i++ {
		loc := gridCentre(t, e, "511083001001001")
		if i%2 == 1 {
			loc = gridCentre(t, e, "511083001002002")
		}
		if _, err := e.Events.Report(e.ctx, model.Report{Category: "sanitation", Description: "垃圾堆放", Location: &loc, Source: "grid_worker"}); err != nil {
			t.Fatal(err)
		}
	}
	want := mustDigest(t, e.Engine())
	if n := e.Engine().Migrated(); n != 0 {
		t.Fatalf("a fresh file migrated %d keys", n)
	}
	before, err := e.Events.List(model.Query{Jurisdiction: "511083", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	path := e.Engine().Path()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	if n := seedPlaceIndex(t, path); n != 40 {
		t.Fatalf("seeded %d l/ keys, want 40", n)
	}

	var progress []int
	eng, err := state.OpenEngine(e.dir, state.EngineOptions{NoSync: true, OnMigrate: func(n int) { progress = append(progress, n) }})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if eng.Migrated() != 40 {
		t.Fatalf("Migrated() = %d, want 40", eng.Migrated())
	}
	if !slices.Equal(progress, []int{7, 14, 21, 28, 35, 40}) {
		t.Fatalf("progress %v, want a running count per chunk of 7", progress)
	}
	if got := mustDigest(t, eng); got != want {
		t.Fatalf("digest after reopen %s, want %s: the retired keys survived", got, want)
	}
	left := 0
	eng.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(state.BucketEvIndex).Cursor()
		for k, _ := c.Seek([]byte(state.IxLoc)); k != nil && bytes.HasPrefix(k, []byte(state.IxLoc)); k, _ = c.Next() {
			left++
		}
		return nil
	})
	if left != 0 {
		t.Fatalf("%d l/ keys left", left)
	}
	s := New(eng, state.NewLocal(eng), Options{Keyring: testKeyring(t), Clock: e.clock.Now})
	defer s.Close()
	after, err := s.Events.List(model.Query{Jurisdiction: "511083", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Events) != len(before.Events) || len(after.Events) != 40 {
		t.Fatalf("listing after reopen: %d events, before %d", len(after.Events), len(before.Events))
	}
	for i := range after.Events {
		if after.Events[i].ID != before.Events[i].ID {
			t.Fatalf("listing order changed at %d: %s vs %s", i, after.Events[i].ID, before.Events[i].ID)
		}
	}
}

// BenchmarkOpenDropsPlaceIndex: the one-time upgrade of an older file, as
// the first open after the upgrade runs it (state file only, no fsync).
func BenchmarkOpenDropsPlaceIndex(b *testing.B) {
	for _, events := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint("events=", events), func(b *testing.B) {
			e := newEnv(b, false)
			e.withCounty(b)
			applyReports(b, e, reportData(b, e), events, 4096)
			src := e.Engine().Path()
			e.Close()
			if n := seedPlaceIndex(b, src); n != events {
				b.Fatalf("seeded %d keys for %d events", n, events)
			}
			seeded, err := os.ReadFile(src)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				dir := b.TempDir()
				if err := os.WriteFile(filepath.Join(dir, "state.db"), seeded, 0o600); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				eng, err := state.OpenEngine(dir, state.EngineOptions{NoSync: true})
				if err != nil {
					b.Fatal(err)
				}
				took := time.Since(start)
				b.StopTimer()
				if eng.Migrated() != events {
					b.Fatalf("migrated %d of %d", eng.Migrated(), events)
				}
				eng.Close()
				b.ReportMetric(float64(events)/took.Seconds(), "keys/s")
				b.StartTimer()
			}
		})
	}
}

// A file written before the org and token place indexes existed gets them
// on open: the digest then matches a file built today, and listings by
// place work.
func TestOpenBuildsAddedIndexes(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	var townTokens []string
	for i, jur := range []string{"511083001", "511083002", "511083001", "511083"} {
		if _, err := e.Party.PutOrg(e.ctx, model.Org{ID: fmt.Sprint("o", i), Name: "党组织", Kind: model.OrgCommittee, Jurisdiction: jur}); err != nil {
			t.Fatal(err)
		}
		tk, _, err := e.Tokens.Create(e.ctx, "综治办", access.TownshipOperator, jur, "")
		if err != nil {
			t.Fatal(err)
		}
		if jur == "511083001" {
			townTokens = append(townTokens, tk.ID)
		}
	}
	slices.Sort(townTokens)
	want := mustDigest(t, e.Engine())
	path := e.Engine().Path()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		for _, ix := range [][]byte{state.BucketOrgPlace, state.BucketTokenScope} {
			if err := tx.DeleteBucket(ix); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(ix); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	eng, err := state.OpenEngine(e.dir, state.EngineOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if eng.Migrated() != 8 {
		t.Fatalf("Migrated() = %d, want the 4 org and 4 token keys", eng.Migrated())
	}
	if got := mustDigest(t, eng); got != want {
		t.Fatalf("digest after reopen %s, want %s", got, want)
	}
	s := New(eng, state.NewLocal(eng), Options{Keyring: testKeyring(t), Clock: e.clock.Now})
	defer s.Close()
	orgs, _, err := s.Party.Orgs("511083001", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range orgs {
		ids = append(ids, o.ID)
	}
	if !slices.Equal(ids, []string{"o0", "o2"}) {
		t.Fatalf("orgs under 511083001 after the upgrade: %v", ids)
	}
	tokens, _, err := s.Tokens.List("511083001", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	ids = ids[:0]
	for _, tk := range tokens {
		ids = append(ids, tk.ID)
	}
	if !slices.Equal(ids, townTokens) {
		t.Fatalf("tokens under 511083001 after the upgrade: %v, want %v", ids, townTokens)
	}
}
