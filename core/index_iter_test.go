package core

import (
	"bytes"
	"testing"

	"go.etcd.io/bbolt"
)

// A file written while the place index (l/<loc>/<id>) was still kept loses
// those keys on open, and ends up identical to one built today.
func TestOpenDropsRetiredPlaceIndex(t *testing.T) {
	defer func(n int) { dropChunk = n }(dropChunk)
	dropChunk = 7 // several chunks
	e := newEnv(t, false)
	e.withCounty(t)
	for i := 0; i < 40; i++ {
		loc := gridCentre(t, e, "511083001001001")
		if i%2 == 1 {
			loc = gridCentre(t, e, "511083001002002")
		}
		if _, err := e.Events.Report(e.ctx, Report{Category: "sanitation", Description: "垃圾堆放", Location: &loc, Source: "grid_worker"}); err != nil {
			t.Fatal(err)
		}
	}
	want := mustDigest(t, e.Engine())
	if n := e.Engine().Migrated(); n != 0 {
		t.Fatalf("a fresh file migrated %d keys", n)
	}
	before, err := e.Events.List(Query{Jurisdiction: "511083", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	path := e.Engine().Path()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	// Write the l/ keys an older version kept, from the status index.
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bEvIndex)
		var old [][]byte
		c := b.Cursor()
		for k, _ := c.Seek([]byte(ixStatus)); k != nil && bytes.HasPrefix(k, []byte(ixStatus)); k, _ = c.Next() {
			rest := k[len(ixStatus):]
			rest = rest[bytes.IndexByte(rest, '/')+1:] // <loc>/<id>
			old = append(old, append([]byte(ixLoc), rest...))
		}
		for _, k := range old {
			if err := b.Put(k, nil); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	db.Close()
	if err != nil || n != 40 {
		t.Fatalf("seeding l/ keys: %d keys, %v", n, err)
	}

	eng, err := OpenEngine(e.dir, EngineOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if eng.Migrated() != 40 {
		t.Fatalf("Migrated() = %d, want 40", eng.Migrated())
	}
	if got := mustDigest(t, eng); got != want {
		t.Fatalf("digest after reopen %s, want %s: the retired keys survived", got, want)
	}
	left := 0
	eng.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bEvIndex).Cursor()
		for k, _ := c.Seek([]byte(ixLoc)); k != nil && bytes.HasPrefix(k, []byte(ixLoc)); k, _ = c.Next() {
			left++
		}
		return nil
	})
	if left != 0 {
		t.Fatalf("%d l/ keys left", left)
	}
	s := New(eng, NewLocal(eng), Options{Keyring: testKeyring(t), Clock: e.clock.Now})
	defer s.Close()
	after, err := s.Events.List(Query{Jurisdiction: "511083", Limit: 100})
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
