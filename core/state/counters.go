package state

import (
	"encoding/binary"
	"maps"
	"slices"

	"github.com/fengqiao/fengqiao/core/model"
	"go.etcd.io/bbolt"
)

// Metric indexes of a counter set. Counters are kept on apply; figures are
// read from one record, never computed by scanning events.
const (
	mReported = iota
	mAccepted
	mAcceptedInTime
	mRejected
	mRated
	mSatisfied
	mOverdue
	mSupervised
	mMerged
	mSelfResolved
	mStateBase // one per Status, in statusOrder
)

const nMetrics = mStateBase + 10

type counterSet [nMetrics]int64

func (c *counterSet) encode() []byte {
	b := make([]byte, 8*nMetrics)
	for i, v := range c {
		binary.BigEndian.PutUint64(b[i*8:], uint64(v))
	}
	return b
}

// countersCompact opens a counter set written from LevelRecords: a varint
// per metric, about 21 bytes where the fixed form takes 160. A batch of
// reports spread over a county's grids touches hundreds of counter rows;
// eight times more of them fit a page, so a commit writes that many fewer
// pages. The fixed form starts with a count's high byte, never this one.
const countersCompact = 0xC1

// encodeAt is the stored form of c as a command of rule level writes it.
func (c *counterSet) encodeAt(level int) []byte {
	if level < LevelRecords {
		return c.encode()
	}
	b := make([]byte, 1, 1+2*nMetrics)
	b[0] = countersCompact
	for _, v := range c {
		b = binary.AppendVarint(b, v)
	}
	return b
}

func decodeCounters(b []byte) counterSet {
	var c counterSet
	if len(b) > 0 && b[0] == countersCompact {
		b = b[1:]
		for i := 0; i < nMetrics && len(b) > 0; i++ {
			v, n := binary.Varint(b)
			if n <= 0 {
				break
			}
			c[i], b = v, b[n:]
		}
		return c
	}
	for i := 0; i < nMetrics && (i+1)*8 <= len(b); i++ {
		c[i] = int64(binary.BigEndian.Uint64(b[i*8:]))
	}
	return c
}

// counterRow is a counter set buffered for flush, with the rule level of
// the last command that changed it: that command's level picks the stored
// form, so the bytes do not depend on how entries were batched.
type counterRow struct {
	counterSet
	level int
}

// counterKeys lists the scopes an event counts in: every jurisdiction level
// above it (all-time and its month, all categories and its own) and its grid.
func counterKeys(ev *model.Event) []string {
	keys := make([]string, 0, 24)
	for _, p := range ancestorsOf(ev.Jurisdiction) {
		keys = append(keys,
			counterJur+p+"//",
			counterJur+p+"/"+ev.Period+"/",
			counterJur+p+"//"+ev.Category,
			counterJur+p+"/"+ev.Period+"/"+ev.Category)
	}
	if ev.Grid != "" {
		keys = append(keys, counterGrid+ev.Grid+"//", counterGrid+ev.Grid+"/"+ev.Period+"/")
	}
	return keys
}

// bump applies fn to every counter scope of ev. The scopes of one event
// shape are resolved once per transaction: a batch of reports from one grid
// then costs one map lookup each instead of one per scope.
func (t *txn) bump(ev *model.Event, fn func(c *counterSet)) {
	t.shape = append(append(append(append(append(append(append(t.shape[:0],
		ev.Jurisdiction...), '|'), ev.Grid...), '|'), ev.Period...), '|'), ev.Category...)
	sets, ok := t.cshapes[string(t.shape)]
	if !ok {
		for _, k := range counterKeys(ev) {
			sets = append(sets, t.counter(k))
		}
		if t.cshapes == nil {
			t.cshapes = map[string][]*counterRow{}
		}
		t.cshapes[string(t.shape)] = sets
	}
	level := RuleLevel
	if t.cmd != nil {
		level = t.cmd.Level
	}
	for _, cs := range sets {
		fn(&cs.counterSet)
		cs.level = level
	}
}

// counter returns a counter set for update, buffered for flush.
func (t *txn) counter(k string) *counterRow {
	cs, ok := t.counters[k]
	if !ok {
		cs = &counterRow{counterSet: t.counterValue(k)}
		t.counters[k] = cs
	}
	return cs
}

// counterValue reads a counter set as this transaction left it. Every read
// during apply goes through here: reading the bucket directly would miss
// bumps still buffered, and the answer would then depend on how Raft grouped
// entries into batches.
func (t *txn) counterValue(k string) counterSet {
	if cs, ok := t.counters[k]; ok {
		return cs.counterSet
	}
	return decodeCounters(t.b(bCounter).Get([]byte(k)))
}

// flush writes buffered counters, sequences, index entries and the audit
// head, in key order.
func (t *txn) flush() error {
	if err := t.flushIndex(); err != nil {
		return err
	}
	if err := t.flushChanges(); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(t.seqs)) {
		if err := t.b(BucketMeta).Put([]byte(k), U64(t.seqs[k])); err != nil {
			return err
		}
	}
	if t.headRead && t.auditSeq > 0 {
		if err := t.b(BucketMeta).Put(AuditHeadKey, append(U64(t.auditSeq), t.auditTop...)); err != nil {
			return err
		}
	}
	b := t.b(bCounter)
	for _, k := range slices.Sorted(maps.Keys(t.counters)) {
		row := t.counters[k]
		if err := b.Put([]byte(k), row.encodeAt(row.level)); err != nil {
			return err
		}
	}
	t.counters, t.cshapes = map[string]*counterRow{}, nil
	return nil
}

func readCounters(tx *bbolt.Tx, k string) counterSet {
	return decodeCounters(tx.Bucket(bCounter).Get([]byte(k)))
}
