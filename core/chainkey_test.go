package core

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"path/filepath"
	"testing"

	"github.com/fengqiao/fengqiao/core/keyfile"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/seal"
	"github.com/fengqiao/fengqiao/core/state"
)

// hashFn makes chain MACs under one generation of a keyring (none: bare
// SHA-256), as a rewriter of the data files would.
type hashFn struct {
	kr  *seal.Keyring
	gen byte
}

func (h hashFn) new() hash.Hash {
	if h.kr == nil {
		return nil
	}
	m, _ := h.kr.MAC(h.gen, state.ChainDomain)
	return m
}

// insiderRewrite rewrites the keyed record fromEnd before the head of the
// closed store in dir and rehashes with the key file kr, as its holder
// could, and returns the engine reopened with that key file.
func insiderRewrite(t *testing.T, dir string, fromEnd uint64, kr *seal.Keyring) *state.Engine {
	t.Helper()
	rehash(t, dir, fromEnd, func(gen byte) (hashFn, bool) { return hashFn{kr: kr, gen: gen}, true })
	e, err := state.OpenEngine(dir, state.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	e.SetAuditKeys(kr)
	return e
}

// keyedEnv writes a chain whose first record is unkeyed (made before the
// chain was keyed, as an upgraded node's), keys it, writes more, and
// closes the store. It returns the directory and the keyring.
func keyedEnv(t *testing.T) (string, *seal.Keyring) {
	t.Helper()
	e := newEnv(t, false)
	e.withCounty(t)
	if ok, err := e.KeyAuditChain(e.ctx); err != nil || !ok {
		t.Fatalf("key the chain: %v %v", ok, err)
	}
	if ok, err := e.KeyAuditChain(e.ctx); err != nil || ok {
		t.Fatalf("keying it again proposed: %v %v", ok, err)
	}
	for i := 0; i < 5; i++ {
		if _, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "keyed", Grid: "511083001001001"}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := e.Engine().VerifyAudit()
	if err != nil || rep.Keyed != 6 { // the rekey command and five reports
		t.Fatalf("keyed chain: %+v %v", rep, err)
	}
	kr := e.keyring()
	e.Close()
	return e.dir, kr
}

// rehash rewrites the command of the keyed record fromEnd records before
// the head and recomputes every hash after it, keyed ones with mac, as
// someone with the data files would.
func rehash(t *testing.T, dir string, fromEnd uint64, mac func(gen byte) (hashFn, bool)) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, "state.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(state.BucketAudit)
		last, _ := b.Cursor().Last()
		victim := state.GetU64(last) - fromEnd
		prev := make([]byte, 32)
		var seq uint64
		c := b.Cursor()
		var rewrites [][2][]byte
		for k, v := c.First(); k != nil; k, v = c.Next() {
			r, err := state.DecodeAudit(v)
			if err != nil {
				return err
			}
			seq = r.Seq
			if seq == victim {
				r.Command = json.RawMessage(`{"type":"forged"}`)
			}
			var h []byte
			if seq == victim && !r.Keyed {
				t.Fatalf("record %d is not keyed", seq)
			}
			if seq >= victim {
				var f hashFn
				if r.Keyed {
					f, _ = mac(r.KeyGen)
				}
				h = state.ChainHash(f.new(), prev, seq, r.Index, r.Command)
				rewrites = append(rewrites, [2][]byte{append([]byte(nil), k...), state.EncodeAudit(r.Keyed, r.KeyGen, seq, r.Index, prev, h, r.Command)})
			} else {
				h, _ = hex.DecodeString(r.Hash)
			}
			prev = h
		}
		for _, w := range rewrites {
			if err := b.Put(w[0], w[1]); err != nil {
				return err
			}
		}
		return tx.Bucket(state.BucketMeta).Put(state.AuditHeadKey, append(state.U64(seq), prev...))
	}); err != nil {
		t.Fatal(err)
	}
}

// The data files alone cannot be rewritten to verify: an edited record
// rehashed with bare SHA-256, or under a key of another key file, fails;
// only the holder of the key file could (and the witness held by the
// parent catches that, witness_test.go).
func TestKeyedChainCannotBeRehashedWithoutTheKey(t *testing.T) {
	for name, mac := range map[string]func(byte) (hashFn, bool){
		"bare SHA-256": func(byte) (hashFn, bool) { return hashFn{}, false },
		"another key file": func(gen byte) (hashFn, bool) {
			other := testKeyring(t)
			return hashFn{kr: other, gen: other.IndexGeneration()}, true
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir, kr := keyedEnv(t)
			rehash(t, dir, 3, mac)
			e, err := state.OpenEngine(dir, state.EngineOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			e.SetAuditKeys(kr)
			if rep, err := e.VerifyAudit(); !errors.Is(err, errs.ErrTampered) || rep.FirstBad == 0 {
				t.Fatalf("a rehashed chain verified: %+v %v", rep, err)
			}
		})
	}
	// With the key, an insider's rewrite verifies: that is what witnesses are for.
	dir, kr := keyedEnv(t)
	if _, err := insiderRewrite(t, dir, 3, kr).VerifyAudit(); err != nil {
		t.Fatalf("the key holder's rewrite: %v", err)
	}
}

// The chain key rotates with the index key: records after the rekey are
// keyed with the new generation, all verify with a key file holding both,
// the state rebuilds from the chain, and without the old generation the
// verification names what is missing.
func TestChainKeyRotates(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	report := func() {
		if _, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "x", Grid: "511083001001001"}); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := keyfile.WriteNew(path, seal.AES256GCM); err != nil {
		t.Fatal(err)
	}
	first, err := keyfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	// Start the store over on a key file we can rotate.
	e.SetKeyring(first)
	if ok, err := e.KeyAuditChain(e.ctx); err != nil || !ok {
		t.Fatalf("key the chain: %v %v", ok, err)
	}
	report()
	gen, err := keyfile.AddKey(path)
	if err == nil {
		err = keyfile.UseKey(path, gen)
	}
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := keyfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	e.SetKeyring(rotated)
	if ok, err := e.KeyAuditChain(e.ctx); err != nil || !ok {
		t.Fatalf("rekey after the rotation: %v %v", ok, err)
	}
	report()
	if g, keyed, _ := e.Engine().AuditKeyGeneration(); !keyed || g != gen {
		t.Fatalf("chain keyed with %d (%v), want %d", g, keyed, gen)
	}
	// The rotated file holds both generations the chain used.
	rep, err := e.Engine().VerifyAudit()
	if err != nil || rep.Keyed < 4 {
		t.Fatalf("verify across the rotation: %+v %v", rep, err)
	}
	if err := e.Engine().VerifyState(t.TempDir(), nil); err != nil {
		t.Fatalf("rebuild across the rotation: %v", err)
	}
	if err := keyfile.RemoveKey(path, 1); err != nil {
		t.Fatal(err)
	}
	without, err := keyfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	e.Engine().SetAuditKeys(without)
	rep, err = e.Engine().VerifyAudit()
	if !errors.Is(err, errs.ErrTampered) || rep.FirstBad == 0 {
		t.Fatalf("verified without the first key: %+v %v", rep, err)
	}
}
