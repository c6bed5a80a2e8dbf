package state

import (
	"bytes"

	"github.com/fengqiao/fengqiao/core/model"
	"go.etcd.io/bbolt"
)

// indexIter yields event-index keys in order, starting after a cursor key;
// nil when done. Keys are valid until the next call.
type indexIter interface{ next() []byte }

// prefixIter walks the keys under one prefix.
type prefixIter struct {
	c      *bbolt.Cursor
	prefix []byte
	k      []byte
}

func newPrefixIter(b *bbolt.Bucket, prefix string, after []byte) *prefixIter {
	it := &prefixIter{c: b.Cursor(), prefix: []byte(prefix)}
	it.k, _ = seekAfter(it.c, it.prefix, after)
	return it
}

func (it *prefixIter) next() []byte {
	k := it.k
	if k == nil || !bytes.HasPrefix(k, it.prefix) {
		return nil
	}
	it.k, _ = it.c.Next()
	return k
}

// seekAfter positions c at the first key at or after from, or strictly
// after `after` when it is set.
func seekAfter(c *bbolt.Cursor, from, after []byte) (k, v []byte) {
	if after == nil {
		return c.Seek(from)
	}
	if k, v = c.Seek(after); bytes.Equal(k, after) {
		k, v = c.Next()
	}
	return k, v
}

// placeIter lists every event under a place, in place order, without a
// place index of its own: every event has exactly one status key
// s/<status>/<loc>/<id>, so merging the status ranges by their <loc>/<id>
// suffix yields what l/<loc>/<id> keys would, one index write per event
// cheaper. It yields those l/ keys, so cursors look as they always did.
type placeIter struct {
	heads []placeHead
	out   []byte
}

type placeHead struct {
	c      *bbolt.Cursor
	pre    int    // length of s/<status>/
	prefix []byte // s/<status>/<loc>
	k      []byte // current key; nil when this status is done
}

// newPlaceIter starts after the l/ key `after` when it is set.
func newPlaceIter(b *bbolt.Bucket, loc string, after []byte) *placeIter {
	it := &placeIter{}
	for _, st := range model.Statuses {
		pre := IxStatus + string(st) + "/"
		h := placeHead{c: b.Cursor(), pre: len(pre), prefix: []byte(pre + loc)}
		var from []byte
		if after != nil {
			from = append([]byte(pre), after[len(IxLoc):]...)
		}
		h.k, _ = seekAfter(h.c, h.prefix, from)
		it.heads = append(it.heads, h)
	}
	return it
}

func (it *placeIter) next() []byte {
	min := -1
	for i := range it.heads {
		h := &it.heads[i]
		if h.k == nil || !bytes.HasPrefix(h.k, h.prefix) {
			h.k = nil
			continue
		}
		if min < 0 || bytes.Compare(h.k[h.pre:], it.heads[min].k[it.heads[min].pre:]) < 0 {
			min = i
		}
	}
	if min < 0 {
		return nil
	}
	h := &it.heads[min]
	it.out = append(append(it.out[:0], IxLoc...), h.k[h.pre:]...)
	h.k, _ = h.c.Next()
	return it.out
}
