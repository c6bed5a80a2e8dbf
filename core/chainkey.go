package core

import (
	"context"
	"errors"

	"github.com/fengqiao/fengqiao/core/state"
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

// KeyAuditChain keys the audit chain with the keyring's current index
// generation if it is not keyed with it yet: on a new store, and after the
// index key rotated. It reports whether it proposed the change.
func (s *Store) KeyAuditChain(ctx context.Context) (bool, error) {
	want := s.keyring().IndexGeneration()
	gen, keyed, err := s.engine.AuditKeyGeneration()
	if err != nil || (keyed && gen == want) {
		return false, err
	}
	if _, err := s.apply(withoutKey(ctx), "audit.rekey", "", state.RekeyPayload{Gen: want}); errors.Is(err, state.ErrKeyedAlready) {
		return false, nil // proposed meanwhile by another caller
	} else if err != nil {
		return false, err
	}
	return true, nil
}
