package state

import (
	"fmt"
	"hash"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/seal"
	"go.etcd.io/bbolt"
)

// ChainDomain names the blind-index domain the audit chain key is derived in.
const ChainDomain = "audit-chain"

// ErrKeyedAlready refuses a rekey to the generation in use: another
// proposer got there first.
var ErrKeyedAlready = errs.Conflict("gen", "current", "the audit chain is keyed with this generation already")

// RekeyPayload is the payload of audit.rekey.
type RekeyPayload struct {
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
		if g := t.b(BucketMeta).Get(auditGenKey); len(g) == 1 {
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
			t.mac, ok = kr.MAC(t.chainGen, ChainDomain)
		}
		if !ok {
			return false, 0, nil, fmt.Errorf("core: the audit chain is keyed with index key generation %d, which this replica's key file lacks: give it the key file the group uses", t.chainGen)
		}
	}
	return true, t.chainGen, t.mac, nil
}

func applyAuditRekey(t *txn, c *Command, p *RekeyPayload) (any, error) {
	if t.keys == nil {
		return nil, fmt.Errorf("core: this replica has no key file to key the audit chain with")
	}
	if _, ok := t.keys.MAC(p.Gen, ChainDomain); !ok {
		// Every replica holds the same key file, or none can apply this.
		return nil, fmt.Errorf("core: this replica's key file lacks index key generation %d", p.Gen)
	}
	if cur := t.b(BucketMeta).Get(auditGenKey); len(cur) == 1 && cur[0] == p.Gen {
		return nil, ErrKeyedAlready
	}
	// This command's own record is keyed with the new generation.
	t.genRead, t.chainKeyed, t.chainGen, t.mac = true, true, p.Gen, nil
	return nil, t.b(BucketMeta).Put(auditGenKey, []byte{p.Gen})
}

// AuditKeyGeneration is the index key generation keying new audit records,
// and whether the chain is keyed at all.
func (e *Engine) AuditKeyGeneration() (byte, bool, error) {
	var gen byte
	var keyed bool
	err := e.View(func(tx *bbolt.Tx) error {
		if g := tx.Bucket(BucketMeta).Get(auditGenKey); len(g) == 1 {
			gen, keyed = g[0], true
		}
		return nil
	})
	return gen, keyed, err
}
