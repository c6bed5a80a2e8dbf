package state

import (
	"bytes"
	"fmt"

	"github.com/fengqiao/fengqiao/core/model"
	"go.etcd.io/bbolt"
)

// upgrade brings a state file written by an older version to today's
// layout, so that its digest matches a file built from the same log today.
// It runs on every open and restore; with nothing to do it costs a few
// read-only seeks. It returns how many index keys it removed or wrote.
func upgrade(db *bbolt.DB, progress func(removed int)) (int, error) {
	n, err := dropPlaceIndex(db, progress)
	if err != nil {
		return n, err
	}
	for _, ix := range addedIndexes {
		built, err := buildIndex(db, ix.index, ix.records, ix.key)
		if err != nil {
			return n, err
		}
		n += built
	}
	return n, nil
}

// addedIndexes are the indexes later versions added: each has one key per
// record of its bucket, derived from the record alone.
var addedIndexes = []struct {
	index, records []byte
	key            func(v []byte) ([]byte, error)
}{
	{BucketOrgPlace, BucketOrg, func(v []byte) ([]byte, error) {
		var o model.Org
		err := decodeRecord(v, &o)
		return orgPlaceKey(&o), err
	}},
	{bHouseLoc, bHouse, func(v []byte) ([]byte, error) {
		var h model.House
		err := decodeRecord(v, &h)
		return houseLocKey(&h), err
	}},
	{BucketTokenScope, BucketToken, func(v []byte) ([]byte, error) {
		var tk model.Token
		err := decodeRecord(v, &tk)
		return tokenScopeKey(&tk), err
	}},
}

// buildIndex fills index from records for files written before it existed.
// Every record has one key, so an empty index beside a non-empty bucket is
// exactly such a file. These buckets hold thousands of records per county
// (orgs, tokens), so one transaction suffices.
func buildIndex(db *bbolt.DB, index, records []byte, keyOf func(v []byte) ([]byte, error)) (int, error) {
	var need bool
	db.View(func(tx *bbolt.Tx) error {
		k, _ := tx.Bucket(index).Cursor().First()
		r, _ := tx.Bucket(records).Cursor().First()
		need = k == nil && r != nil
		return nil
	})
	if !need {
		return 0, nil
	}
	n := 0
	err := db.Update(func(tx *bbolt.Tx) error {
		ix := tx.Bucket(index)
		return tx.Bucket(records).ForEach(func(k, v []byte) error {
			ik, err := keyOf(v)
			if err != nil {
				return fmt.Errorf("corrupt record %q: %w", k, err)
			}
			n++
			return ix.Put(ik, nil)
		})
	})
	if err != nil {
		return 0, fmt.Errorf("core: build index %s: %w", index, err)
	}
	return n, nil
}

// DropChunk bounds one migration transaction; a variable so a test can
// make several chunks out of a few events.
var DropChunk = 10000

// dropPlaceIndex deletes the l/ keys that files written before the place
// index was retired still hold, so their digests match a file built from
// the same log today. It runs on every open; with nothing to do it costs one
// read-only seek. progress, if set, gets the running total after each chunk.
func dropPlaceIndex(db *bbolt.DB, progress func(removed int)) (int, error) {
	chunk := DropChunk
	var found bool
	total := 0
	db.View(func(tx *bbolt.Tx) error {
		k, _ := tx.Bucket(BucketEvIndex).Cursor().Seek([]byte(IxLoc))
		found = bytes.HasPrefix(k, []byte(IxLoc))
		return nil
	})
	for found {
		n := 0
		err := db.Update(func(tx *bbolt.Tx) error {
			c := tx.Bucket(BucketEvIndex).Cursor()
			// Seek again after each delete: a bbolt cursor may skip a key
			// when it moves on from one it deleted.
			for k, _ := c.Seek([]byte(IxLoc)); k != nil && bytes.HasPrefix(k, []byte(IxLoc)) && n < chunk; k, _ = c.Seek([]byte(IxLoc)) {
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
