package state

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/fengqiao/fengqiao/core/divisions"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"go.etcd.io/bbolt"
)

// load reads key from bucket inside apply; a missing key is a NotFound error
// on field ("what key not found").
func load[T any](t *txn, bucket []byte, key, field, what string) (*T, error) {
	v := new(T)
	ok, err := t.getRecord(bucket, []byte(key), v)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.NotFound(field, "%s %s not found", what, key)
	}
	return v, nil
}

// village loads a village/community; any other tier is not found.
func (t *txn) village(field, code string) (*model.Jurisdiction, error) {
	j, err := load[model.Jurisdiction](t, bJur, code, field, "village/community")
	if err == nil && j.Tier != divisions.Village {
		return nil, errs.NotFound(field, "village/community %s not found (it is a %s)", code, j.Tier)
	}
	return j, err
}

// activeGrid loads a grid that is in use.
func (t *txn) activeGrid(c *Command, field, code string) (*model.Grid, error) {
	g, err := loadIn(t, c, bGrid, code, field, "grid", (*model.Grid).Place)
	if err == nil && g.Status != model.GridActive {
		return nil, errs.NotFound(field, "grid %s is retired", code)
	}
	return g, err
}

// sortedUnique returns a sorted copy of s without repeats, so payload lists
// apply in an order that does not depend on how the caller listed them.
func sortedUnique(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// IdsPayload is a batch of record ids for time-driven commands (deadline
// sweeps, visit alerts).
type IdsPayload struct {
	IDs []string `json:"ids"`
}

// ids checks the batch size and returns the ids sorted and unique.
func (p *IdsPayload) ids(max int) ([]string, error) {
	if len(p.IDs) == 0 || len(p.IDs) > max {
		return nil, errs.Invalid("ids", "length", "give 1..%d ids, got %d", max, len(p.IDs))
	}
	return sortedUnique(p.IDs), nil
}

// lookup reads one record by id outside apply; a missing one is a NotFound
// error on field "id" ("what id not found").
func lookup[T any](e *Engine, bucket []byte, id, what string) (*T, error) {
	x := new(T)
	err := e.View(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bucket).Get([]byte(id))
		if raw == nil {
			return errs.NotFound("id", "%s %s not found", what, id)
		}
		return decodeRecord(raw, x)
	})
	if err != nil {
		return nil, err
	}
	return x, nil
}

// prefixValues decodes the values of bucket whose keys start with pre, in
// key order, at most limit (0: all). keep, if set, filters by key.
func prefixValues[T any](tx *bbolt.Tx, bucket, pre []byte, limit int, keep func(k []byte) bool) ([]T, error) {
	out, _, err := PageValues[T](tx, bucket, pre, nil, limit, keep, nil)
	return out, err
}

// PageValues is prefixValues starting after the key after (nil: from the
// start), keeping only the values want accepts (nil: all), and returning also
// the key to continue after (nil when done).
func PageValues[T any](tx *bbolt.Tx, bucket, pre, after []byte, limit int, keep func(k []byte) bool, want func(*T) bool) ([]T, []byte, error) {
	return scanPage(tx.Bucket(bucket).Cursor(), pre, after, limit, keep, func(k, v []byte, x *T) (bool, error) {
		if err := decodeRecord(v, x); err != nil {
			return false, fmt.Errorf("core: corrupt record %s/%q: %w", bucket, k, err)
		}
		return want == nil || want(x), nil
	})
}

// prefixRefs follows the keys of index that start with pre to the records of
// target they name (the part after the key's last '/'), in index order.
func prefixRefs[T any](tx *bbolt.Tx, index, target, pre []byte, limit int, keep func(k []byte) bool) ([]T, error) {
	out, _, err := pageRefs[T](tx, index, target, pre, nil, limit, keep)
	return out, err
}

// pageRefs is prefixRefs starting after the index key after (nil: from the
// start), returning also the key to continue from (nil when done).
func pageRefs[T any](tx *bbolt.Tx, index, target, pre, after []byte, limit int, keep func(k []byte) bool) ([]T, []byte, error) {
	tb := tx.Bucket(target)
	return scanPage(tx.Bucket(index).Cursor(), pre, after, limit, keep, func(k, _ []byte, x *T) (bool, error) {
		id := k[bytes.LastIndexByte(k, '/')+1:]
		if err := decodeRecord(tb.Get(id), x); err != nil {
			return false, fmt.Errorf("core: index %s points at a bad record %s/%q: %w", index, target, id, err)
		}
		return true, nil
	})
}

// scanPage is the loop under pageValues and pageRefs: the keys under pre
// after `after`, those keep accepts (nil: all) decoded by decode, which says
// whether to list the result, until limit are listed (0: no limit). last is
// the key to continue after, nil when the keys ran out.
func scanPage[T any](c *bbolt.Cursor, pre, after []byte, limit int, keep func(k []byte) bool, decode func(k, v []byte, x *T) (bool, error)) (out []T, last []byte, err error) {
	k, v := seekAfter(c, pre, after)
	for ; k != nil && bytes.HasPrefix(k, pre); k, v = c.Next() {
		if limit > 0 && len(out) == limit {
			return out, bytes.Clone(last), nil // keys live only as long as the transaction
		}
		last = k
		if keep != nil && !keep(k) {
			continue
		}
		var x T
		ok, err := decode(k, v, &x)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			out = append(out, x)
		}
	}
	return out, nil, nil
}
