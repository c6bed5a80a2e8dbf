package core

import (
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/workcal"
)

// txn is one write transaction of ApplyBatch with its per-transaction caches.
// Counter updates are buffered and written in key order at flush, so a batch
// of many events touches each counter once.
type txn struct {
	tx       *bbolt.Tx
	counters map[string]*counterSet
	effects  []func(*Engine)
	auditSeq uint64
	auditTop []byte
	headRead bool
	cal      *workcal.Calendar
	sla      *SLAConfig
	policy   *VisitPolicy
}

func newTxn(tx *bbolt.Tx) *txn {
	return &txn{tx: tx, counters: map[string]*counterSet{}}
}

func (t *txn) b(name []byte) *bbolt.Bucket { return t.tx.Bucket(name) }

// applyEntry decodes and applies one entry, then chains it into the audit log.
func (t *txn) applyEntry(en Entry) (any, error) {
	c, err := DecodeCommand(en.Data)
	if err != nil {
		return nil, err
	}
	v, err := handlers[c.Type].apply(t, c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Type, err)
	}
	if err := t.appendAudit(en); err != nil {
		return nil, err
	}
	return v, nil
}

func (t *txn) getJSON(bucket, k []byte, v any) (bool, error) {
	raw := t.b(bucket).Get(k)
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("core: corrupt record %s/%s: %w", bucket, k, err)
	}
	return true, nil
}

func (t *txn) putJSON(bucket, k []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return t.b(bucket).Put(k, raw)
}

func (t *txn) put(bucket, k []byte) error { return t.b(bucket).Put(k, nil) }
func (t *txn) del(bucket, k []byte) error { return t.b(bucket).Delete(k) }

// nextSeq increments and returns a named counter in meta.
func (t *txn) nextSeq(name string) (uint64, error) {
	k := []byte("seq/" + name)
	n := getU64(t.b(bMeta).Get(k)) + 1
	return n, t.b(bMeta).Put(k, u64(n))
}

func (t *txn) effect(fx func(*Engine)) { t.effects = append(t.effects, fx) }

// calendar returns the replicated working-day calendar.
func (t *txn) calendar() (*workcal.Calendar, error) {
	if t.cal == nil {
		c := &workcal.Calendar{}
		if _, err := t.getJSON(bConfig, []byte("calendar"), c); err != nil {
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
