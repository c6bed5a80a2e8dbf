package state

import (
	"encoding/json"
	"fmt"
	"hash"
	"slices"
	"strings"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/seal"
	"github.com/fengqiao/fengqiao/core/workcal"
	"go.etcd.io/bbolt"
)

// txn is one write transaction of ApplyBatch with its per-transaction caches.
// Counter updates are buffered and written in key order at flush, so a batch
// of many events touches each counter once.
type txn struct {
	tx       *bbolt.Tx
	counters map[string]*counterRow
	effects  []func(*Engine)
	auditSeq uint64
	auditTop []byte
	headRead bool
	cal      *workcal.Calendar
	sla      *model.SLAConfig
	policy   *model.VisitPolicy
	grids    map[string]*gridRef      // grids read in this transaction
	seqs     map[string]uint64        // sequence counters, written at flush
	cshapes  map[string][]*counterRow // counter sets per event shape (see bump)
	shape    []byte                   // scratch for bump's shape key
	ixw      []ixWrite                // buffered event-index writes, in the order made
	cps      []Checkpoint             // recorded here, published on commit
	// The audit chain's key (chainkey.go), read once per transaction.
	keys       *seal.Keyring
	genRead    bool
	chainKeyed bool
	chainGen   byte
	mac        hash.Hash
	index      uint64   // log index of the entry being applied
	cmd        *Command // the command being applied
	changed    bool     // the change feed grew (wake its readers on commit)
	chg        []byte   // change records buffered for flush (changes.go)
	chgSeqs    []uint64 // their seqs
}

// evIndexBuckets are written, never read, during apply; their writes are
// buffered and applied in key order at flush, which keeps each bbolt seek
// next to the previous one.
var evIndexBuckets = map[string]bool{string(BucketEvIndex): true}

// gridRef is what event apply needs of a grid, without its polygon.
type gridRef struct {
	Jurisdiction string           `json:"jurisdiction"`
	Status       model.GridStatus `json:"status"`
}

// gridRef reads a grid's village and status once per transaction; grid
// writes in the same transaction drop the cached entry.
func (t *txn) gridRef(code string) (*gridRef, error) {
	if g, ok := t.grids[code]; ok {
		return g, nil
	}
	var g *gridRef
	if raw := t.b(bGrid).Get([]byte(code)); raw != nil {
		g = &gridRef{}
		if err := json.Unmarshal(raw, g); err != nil {
			return nil, fmt.Errorf("core: corrupt grid %s: %w", code, err)
		}
	}
	if t.grids == nil {
		t.grids = map[string]*gridRef{}
	}
	t.grids[code] = g
	return g, nil
}

// appendBuckets take keys in (mostly) increasing order: the audit sequence,
// event numbers per area and day, timelines, deadlines. Packing their pages
// full instead of bbolt's default half roughly halves the file.
var appendBuckets = [][]byte{BucketAudit, BucketEvent, bVisit, bChange}

func newTxn(tx *bbolt.Tx) *txn {
	for _, b := range appendBuckets {
		tx.Bucket(b).FillPercent = 0.95
	}
	return &txn{tx: tx, counters: map[string]*counterRow{}}
}

func (t *txn) b(name []byte) *bbolt.Bucket { return t.tx.Bucket(name) }

// applyEntry applies one pre-decoded entry, then chains it into the audit log.
func (t *txn) applyEntry(en Entry, d decoded) (any, error) {
	if d.err != nil {
		return nil, d.err
	}
	c := d.cmd
	t.index, t.cmd = en.Index, c
	keyed := strings.HasPrefix(c.ID, KeyedPrefix)
	if keyed {
		if rec := t.b(bRequest).Get([]byte(c.ID)); rec != nil {
			ref, digest := splitRequest(rec)
			if digest != "" && c.Digest != "" && digest != c.Digest {
				return nil, &errs.FieldError{Kind: errs.ErrKeyReused, Field: "Idempotency-Key", Rule: "reused",
					Msg: "this idempotency key was used for a different request; use a new key for a new request"}
			}
			return nil, &DuplicateError{ID: c.ID, Ref: ref}
		}
	}
	v, err := handlers[c.Type].apply(t, c, d.val)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Type, err)
	}
	if keyed {
		if err := t.b(bRequest).Put([]byte(c.ID), requestRecord(refOf(v), c.Digest)); err != nil {
			return nil, err
		}
	}
	if err := t.appendAudit(en); err != nil {
		return nil, err
	}
	return v, nil
}

func (t *txn) getRecord(bucket, k []byte, v any) (bool, error) {
	raw := t.b(bucket).Get(k)
	if raw == nil {
		return false, nil
	}
	if err := decodeRecord(raw, v); err != nil {
		return true, fmt.Errorf("core: corrupt record %s/%s: %w", bucket, k, err)
	}
	return true, nil
}

func (t *txn) putRecord(bucket, k []byte, v any) error {
	level := RuleLevel
	if t.cmd != nil {
		level = t.cmd.Level
	}
	raw, err := encodeRecordAt(v, level)
	if err != nil {
		return err
	}
	if err := t.b(bucket).Put(k, raw); err != nil {
		return err
	}
	if kind, ok := feedKinds[string(bucket)]; ok && t.cmd != nil {
		place, status := feedOf(v)
		if place == "" {
			place = t.self() // cases and handovers belong to the whole jurisdiction
		}
		return t.change(t.cmd, kind, string(k), place, t.cmd.Type, "", status)
	}
	return nil
}

func (t *txn) put(bucket, k []byte) error {
	if evIndexBuckets[string(bucket)] {
		t.bufferIndex(bucket, k, true)
		return nil
	}
	return t.b(bucket).Put(k, nil)
}

func (t *txn) del(bucket, k []byte) error {
	if evIndexBuckets[string(bucket)] {
		t.bufferIndex(bucket, k, false)
		return nil
	}
	return t.b(bucket).Delete(k)
}

func (t *txn) bufferIndex(bucket, k []byte, put bool) {
	t.bufferIndexKey(string(bucket)+"\x00"+string(k), put)
}

// bufferIndexKey buffers a write of key, already bucket\x00key.
func (t *txn) bufferIndexKey(key string, put bool) {
	t.ixw = append(t.ixw, ixWrite{key: key, put: put})
}

// ixWrite is a buffered index put or delete of bucket\x00key.
type ixWrite struct {
	key string
	put bool
}

// flushIndex applies buffered index writes, sorted by bucket and key.
func (t *txn) flushIndex() error {
	// A stable sort keeps the writes to one key in order; the last wins.
	slices.SortStableFunc(t.ixw, func(a, b ixWrite) int { return strings.Compare(a.key, b.key) })
	var (
		cur string
		bk  *bbolt.Bucket
	)
	for j, w := range t.ixw {
		if j+1 < len(t.ixw) && t.ixw[j+1].key == w.key {
			continue
		}
		k := w.key
		i := strings.IndexByte(k, 0)
		if k[:i] != cur {
			cur, bk = k[:i], t.tx.Bucket([]byte(k[:i]))
			bk.FillPercent = 0.9 // keys arrive sorted
		}
		var err error
		if w.put {
			err = bk.Put([]byte(k[i+1:]), nil)
		} else {
			err = bk.Delete([]byte(k[i+1:]))
		}
		if err != nil {
			return err
		}
	}
	t.ixw = nil
	return nil
}

// nextSeq increments and returns a named counter in meta. The new value is
// written once, at flush.
func (t *txn) nextSeq(name string) (uint64, error) {
	n := t.seq(name) + 1
	if t.seqs == nil {
		t.seqs = map[string]uint64{}
	}
	t.seqs[metaSeq+name] = n
	return n, nil
}

// seq reads a named counter as this transaction left it. Reading meta
// directly would miss a bump still buffered, and the answer would then
// depend on how Raft grouped entries into batches.
func (t *txn) seq(name string) uint64 {
	k := metaSeq + name
	if n, ok := t.seqs[k]; ok {
		return n
	}
	return GetU64(t.b(BucketMeta).Get([]byte(k)))
}

func (t *txn) effect(fx func(*Engine)) { t.effects = append(t.effects, fx) }

// calendar returns the replicated working-day calendar.
func (t *txn) calendar() (*workcal.Calendar, error) {
	if t.cal == nil {
		c := &workcal.Calendar{}
		if _, err := t.getRecord(bConfig, configCalendar, c); err != nil {
			return nil, err
		}
		t.cal = c
	}
	return t.cal, nil
}

// requireAbsent fails with a conflict when k exists in bucket.
func (t *txn) requireAbsent(bucket, k []byte, field, what string) error {
	if t.b(bucket).Get(k) != nil {
		return errs.Conflict(field, "exists", "%s %s already exists", what, k)
	}
	return nil
}
