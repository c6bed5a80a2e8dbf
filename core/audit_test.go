package core

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// tamper reopens a closed store's file and lets fn edit the audit bucket.
func tamper(t *testing.T, dir string, fn func(b *bbolt.Bucket, meta *bbolt.Bucket)) *state.Engine {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, "state.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { fn(tx.Bucket(state.BucketAudit), tx.Bucket(state.BucketMeta)); return nil }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	e, err := state.OpenEngine(dir, state.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func auditEnv(t *testing.T) string {
	e := newEnv(t, false)
	e.withCounty(t)
	for i := 0; i < 5; i++ {
		if _, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "x", Grid: "511083001001001"}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := e.Engine().VerifyAudit()
	if err != nil || !rep.OK || rep.Records < 5 {
		t.Fatalf("clean chain fails: %+v %v", rep, err)
	}
	e.Close()
	return e.dir
}

func TestAuditDetectsTampering(t *testing.T) {
	edit := func(v []byte, fn func(r *state.AuditRecord)) []byte {
		r, err := state.DecodeAudit(v)
		if err != nil {
			t.Fatal(err)
		}
		fn(&r)
		prev, _ := hex.DecodeString(r.Prev)
		hash, _ := hex.DecodeString(r.Hash)
		return state.EncodeAudit(r.Keyed, r.KeyGen, r.Seq, r.Index, prev, hash, r.Command)
	}
	cases := map[string]func(b, meta *bbolt.Bucket){
		"altered": func(b, _ *bbolt.Bucket) {
			k := state.U64(3)
			b.Put(k, edit(b.Get(k), func(r *state.AuditRecord) { r.Command = json.RawMessage(`{"type":"forged"}`) }))
		},
		"removed": func(b, _ *bbolt.Bucket) { b.Delete(state.U64(4)) },
		"reordered": func(b, _ *bbolt.Bucket) {
			v2, v3 := append([]byte(nil), b.Get(state.U64(2))...), append([]byte(nil), b.Get(state.U64(3))...)
			b.Put(state.U64(2), v3)
			b.Put(state.U64(3), v2)
		},
		"relinked": func(b, _ *bbolt.Bucket) {
			// Swap two records and fix up their sequence numbers: the links break.
			v2, v3 := append([]byte(nil), b.Get(state.U64(2))...), append([]byte(nil), b.Get(state.U64(3))...)
			b.Put(state.U64(2), edit(v3, func(r *state.AuditRecord) { r.Seq = 2 }))
			b.Put(state.U64(3), edit(v2, func(r *state.AuditRecord) { r.Seq = 3 }))
		},
		"truncated": func(b, _ *bbolt.Bucket) {
			c := b.Cursor()
			k, _ := c.Last()
			b.Delete(k)
		},
	}
	for name, fn := range cases {
		t.Run(name, func(t *testing.T) {
			e := tamper(t, auditEnv(t), fn)
			rep, err := e.VerifyAudit()
			if !errors.Is(err, errs.ErrTampered) || rep.OK || rep.FirstBad == 0 {
				t.Fatalf("tampering not detected: %+v %v", rep, err)
			}
		})
	}
}

func TestVerifyStateCatchesAlteredRecords(t *testing.T) {
	dir := auditEnv(t)
	e := tamper(t, dir, func(b, _ *bbolt.Bucket) {}) // untouched
	if err := e.VerifyState(t.TempDir(), nil); err != nil {
		t.Fatalf("clean state fails deep verification: %v", err)
	}
	e.Close()
	// Edit an event record directly; the audit chain itself stays intact.
	db, err := bbolt.Open(filepath.Join(dir, "state.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bbolt.Tx) error {
		c := tx.Bucket(state.BucketEvent).Cursor()
		k, v := c.First()
		// Same length, so the edit reads back in either record form.
		edited := bytes.Replace(v, []byte("reported"), []byte("rejected"), 1)
		if bytes.Equal(edited, v) {
			t.Fatal("the event record holds no status to edit")
		}
		return tx.Bucket(state.BucketEvent).Put(k, edited)
	})
	db.Close()
	e2, err := state.OpenEngine(dir, state.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	if _, err := e2.VerifyAudit(); err != nil {
		t.Fatalf("the chain should still verify: %v", err)
	}
	if err := e2.VerifyState(t.TempDir(), nil); !errors.Is(err, errs.ErrTampered) {
		t.Fatalf("an edited event was not caught: %v", err)
	}
}
