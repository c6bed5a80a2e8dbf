package core

import (
	"context"
	"errors"
	"fmt"
	"hash"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/seal"
)

// The audit chain is keyed: each record's hash is a MAC (HMAC-SHA256, or
// HMAC-SM3 under the SM4 suite) under a chain key derived from an index
// key of the key file (seal.Keyring.MAC). The key is never in the state,
// so a copy of the data files, or a backup, cannot be edited and rehashed
// to verify again. Which generation keys new records is replicated state,
// changed by the audit.rekey command, so every replica computes the same
// chain: the leader proposes it when its key file's index generation is
// not the chain's (Store.KeyAuditChain), which is how the chain key
// rotates with the other keys. A generation that keyed records must stay
// in the key file for as long as those records must verify.

const chainDomain = "audit-chain"

// errKeyedAlready refuses a rekey to the generation in use: another
// proposer got there first.
var errKeyedAlready = errs.Conflict("gen", "current", "the audit chain is keyed with this generation already")

type rekeyPayload struct {
	Gen byte `json:"gen"`
}

// SetAuditKeys gives the engine the key file whose index keys key the
// audit chain. Every replica's must hold the generations the chain uses;
// one that lacks the generation a command needs refuses to apply it.
func (e *Engine) SetAuditKeys(kr *seal.Keyring) {
	if kr != nil {
		e.auditKeys.Store(kr)
	}
}

// chainKey says how the record being appended is keyed: not at all (a
// chain made before keying), or with a MAC under generation gen.
func (t *txn) chainKey() (keyed bool, gen byte, mac hash.Hash, err error) {
	if !t.genRead {
		if g := t.b(bMeta).Get(auditGenKey); len(g) == 1 {
			t.chainKeyed, t.chainGen = true, g[0]
		}
		t.genRead = true
	}
	if !t.chainKeyed {
		return false, 0, nil, nil
	}
	if t.mac == nil {
		kr := t.keys
		var ok bool
		if kr != nil {
			t.mac, ok = kr.MAC(t.chainGen, chainDomain)
		}
		if !ok {
			return false, 0, nil, fmt.Errorf("core: the audit chain is keyed with index key generation %d, which this replica's key file lacks: give it the key file the group uses", t.chainGen)
		}
	}
	return true, t.chainGen, t.mac, nil
}

func applyAuditRekey(t *txn, c *Command, p *rekeyPayload) (any, error) {
	if t.keys == nil {
		return nil, fmt.Errorf("core: this replica has no key file to key the audit chain with")
	}
	if _, ok := t.keys.MAC(p.Gen, chainDomain); !ok {
		// Every replica holds the same key file, or none can apply this.
		return nil, fmt.Errorf("core: this replica's key file lacks index key generation %d", p.Gen)
	}
	if cur := t.b(bMeta).Get(auditGenKey); len(cur) == 1 && cur[0] == p.Gen {
		return nil, errKeyedAlready
	}
	// This command's own record is keyed with the new generation.
	t.genRead, t.chainKeyed, t.chainGen, t.mac = true, true, p.Gen, nil
	return nil, t.b(bMeta).Put(auditGenKey, []byte{p.Gen})
}

// AuditKeyGeneration is the index key generation keying new audit records,
// and whether the chain is keyed at all.
func (e *Engine) AuditKeyGeneration() (byte, bool, error) {
	var gen byte
	var keyed bool
	err := e.View(func(tx *bbolt.Tx) error {
		if g := tx.Bucket(bMeta).Get(auditGenKey); len(g) == 1 {
			gen, keyed = g[0], true
		}
		return nil
	})
	return gen, keyed, err
}

// KeyAuditChain keys the audit chain with the keyring's current index
// generation if it is not keyed with it yet: on a new store, and after the
// index key rotated. It reports whether it proposed the change.
func (s *Store) KeyAuditChain(ctx context.Context) (bool, error) {
	want := s.keyring().IndexGeneration()
	gen, keyed, err := s.engine.AuditKeyGeneration()
	if err != nil || (keyed && gen == want) {
		return false, err
	}
	if _, err := s.apply(withoutKey(ctx), "audit.rekey", "", rekeyPayload{Gen: want}); errors.Is(err, errKeyedAlready) {
		return false, nil // proposed meanwhile by another caller
	} else if err != nil {
		return false, err
	}
	return true, nil
}
