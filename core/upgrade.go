package core

import (
	"bytes"
	"fmt"

	"go.etcd.io/bbolt"
)

// upgrade brings a state file written by an older version to today's
// layout, so that its digest matches a file built from the same log today.
// It runs on every open and restore; with nothing to do it costs a few
// read-only seeks. It returns how many index keys it removed or wrote.
func upgrade(db *bbolt.DB, progress func(removed int)) (int, error) {
	dropped, err := dropPlaceIndex(db, progress)
	if err != nil {
		return dropped, err
	}
	built, err := buildOrgPlaceIndex(db)
	return dropped + built, err
}

// buildOrgPlaceIndex writes the org-by-place index for files written before
// it existed. Every org has one key, so an empty index beside a non-empty
// org bucket is exactly such a file. Orgs number in the thousands per
// county, so one transaction suffices.
func buildOrgPlaceIndex(db *bbolt.DB) (int, error) {
	var need bool
	db.View(func(tx *bbolt.Tx) error {
		k, _ := tx.Bucket(bOrgPlace).Cursor().First()
		o, _ := tx.Bucket(bOrg).Cursor().First()
		need = k == nil && o != nil
		return nil
	})
	if !need {
		return 0, nil
	}
	n := 0
	err := db.Update(func(tx *bbolt.Tx) error {
		ix := tx.Bucket(bOrgPlace)
		return tx.Bucket(bOrg).ForEach(func(k, v []byte) error {
			var o Org
			if err := decodeRecord(v, &o); err != nil {
				return fmt.Errorf("corrupt org %q: %w", k, err)
			}
			n++
			return ix.Put(orgPlaceKey(&o), nil)
		})
	})
	if err != nil {
		return 0, fmt.Errorf("core: build the org place index: %w", err)
	}
	return n, nil
}

// dropChunk bounds one migration transaction; a variable so a test can
// make several chunks out of a few events.
var dropChunk = 10000

// dropPlaceIndex deletes the l/ keys that files written before the place
// index was retired still hold, so their digests match a file built from
// the same log today. It runs on every open; with nothing to do it costs one
// read-only seek. progress, if set, gets the running total after each chunk.
func dropPlaceIndex(db *bbolt.DB, progress func(removed int)) (int, error) {
	chunk := dropChunk
	var found bool
	total := 0
	db.View(func(tx *bbolt.Tx) error {
		k, _ := tx.Bucket(bEvIndex).Cursor().Seek([]byte(ixLoc))
		found = bytes.HasPrefix(k, []byte(ixLoc))
		return nil
	})
	for found {
		n := 0
		err := db.Update(func(tx *bbolt.Tx) error {
			c := tx.Bucket(bEvIndex).Cursor()
			// Seek again after each delete: a bbolt cursor may skip a key
			// when it moves on from one it deleted.
			for k, _ := c.Seek([]byte(ixLoc)); k != nil && bytes.HasPrefix(k, []byte(ixLoc)) && n < chunk; k, _ = c.Seek([]byte(ixLoc)) {
				if err := c.Delete(); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("core: drop the retired place index: %w", err)
		}
		total += n
		found = n == chunk
		if progress != nil && n > 0 {
			progress(total)
		}
	}
	return total, nil
}
