package core

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/state"
)

// Resealing retires a key generation. After a rotation, old values stay
// sealed under the generation that sealed them; Reseal opens them and seals
// them again under the current one, until the census shows the old
// generation unused and it can leave the key file.
//
// Sealing draws random nonces, so it happens before proposing, as every
// seal does. Apply only swaps a value that still holds exactly what was
// read: one changed in between was sealed under the current generation
// anyway, and is left alone.

// SealedCensus counts the sealed values by generation. A generation with no
// values and no waiting offers can be removed from every key file.
func (s *Store) SealedCensus() (state.SealCensus, error) { return state.Census(s.engine, s.keyring()) }

// CheckBackupKeys refuses a backup (a state file at path) holding values
// sealed, or people indexed, with a generation this store's keyring lacks:
// restored, they could not be opened or found. The error names the
// generations; put them back in the key file to restore such a backup.
func (s *Store) CheckBackupKeys(path string) error {
	e, err := state.OpenStateFileReadOnly(path)
	if err != nil {
		return err
	}
	defer e.Close()
	kr := s.keyring()
	c, err := state.Census(e, kr)
	if err != nil {
		return err
	}
	var missing []string
	for _, g := range slices.Sorted(maps.Keys(c.Generations)) {
		if !kr.Has(g) {
			missing = append(missing, fmt.Sprintf("generation %d (%d values)", g, c.Generations[g]))
		}
	}
	for _, g := range slices.Sorted(maps.Keys(c.Indexes)) {
		if !kr.HasIndex(g) {
			missing = append(missing, fmt.Sprintf("index key %d (%d people)", g, c.Indexes[g]))
		}
	}
	if len(missing) > 0 {
		return errs.Conflict("keys", "missing", "the backup holds what this node's key file can no longer open: %s; put those generations back in the key file first", strings.Join(missing, ", "))
	}
	return nil
}

// ResealResult is what one pass did.
type ResealResult struct {
	Found    int    `json:"found"`    // old values this pass read (whole records: up to two over a max below 3)
	Resealed int    `json:"resealed"` // of those, swapped
	Next     string `json:"next"`     // where the next pass starts; "" when the state is covered
}

// Reseal makes one pass from after ("" for the first; then the previous
// pass's Next): it reads up to max values sealed under older generations
// (1..MaxResealItems, else MaxResealItems; fewer when they are large, so
// the command stays well under MaxCommandSize), seals them again under the
// current generation and proposes the swap. Call it until Next is "".
// Values written meanwhile are sealed under the current generation, so one
// round covers the state; SealedCensus confirms it. A value this node's
// keyring cannot open is an error naming it, and nothing is proposed.
func (s *Store) Reseal(ctx context.Context, after string, max int) (ResealResult, error) {
	items, next, err := s.engine.ResealBatch(s.keyring(), after, max) // one keyring for the whole pass
	if err != nil {
		return ResealResult{}, err
	}
	res := ResealResult{Found: len(items), Next: next}
	if len(items) > 0 {
		res.Resealed, err = applyAs[int](ctx, s, "keys.reseal", "", state.ResealPayload{Items: items})
	}
	return res, err
}
