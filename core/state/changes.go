package state

import (
	"encoding/binary"
	"fmt"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"go.etcd.io/bbolt"
)

// The change feed (Nomad's event stream and etcd's watch are the anchors):
// each applied command of rule level LevelFeed or above appends what it
// changed — kind, id, place, action, old and new status — under a dense
// sequence. Readers page through it with a cursor; consumers that need
// at-least-once delivery (plugins' on-transition hooks, webhooks) keep their
// cursor in replicated state with changes.ack, so a new leader resumes where
// the old one acknowledged. Retention is by count, so every replica trims
// the same entries; a cursor older than the oldest entry gets a compacted
// error naming the oldest, as etcd's watch does.

// ChangeRetention is how many changes the feed keeps, at least.
var ChangeRetention uint64 = 100_000

// seqChange names the feed's sequence in meta.
const seqChange = "change"

// feedKinds are the buckets whose every write is a change, by kind. Events
// are recorded where their status moves (saveEvent, reportEvent), with the
// status before and after.
var feedKinds = map[string]string{
	string(bPerson): model.ChangePerson, string(bHouse): model.ChangeHouse, string(bGrid): model.ChangeGrid,
	string(bWorker): model.ChangeWorker, string(BucketOrg): model.ChangeOrg, string(bMember): model.ChangeMember,
	string(bActivity): model.ChangeActivity, string(bCase): model.ChangeCase, string(bHandover): model.ChangeHandover,
}

// feedOf is where a record lies and its status, for its change.
func feedOf(v any) (place, status string) {
	switch x := v.(type) {
	case *model.Person:
		return x.Place(), ""
	case *model.House:
		return housePlace(x), ""
	case *model.Grid:
		return x.Place(), string(x.Status)
	case model.Grid:
		return x.Place(), string(x.Status)
	case *model.Worker:
		return x.Jurisdiction, ""
	case *model.Org:
		return x.Jurisdiction, ""
	case *model.Case:
		return "", x.Status
	case model.Case:
		return "", x.Status
	case *model.Handover:
		return "", x.Status
	case model.Handover:
		return "", x.Status
	}
	return "", ""
}

// ChangeChunk is how many consecutive changes share one stored value:
// chunk c holds seqs c·ChangeChunk … c·ChangeChunk+ChangeChunk−1. A
// transaction appends to a chunk once at flush, not once per change, and
// the retention drops whole chunks. The layout depends only on the
// sequence, never on how entries were batched.
var ChangeChunk uint64 = 64

// change appends one change for command c, when its level keeps a feed. It
// is buffered and written at flush.
func (t *txn) change(c *Command, kind, id, place, action, from, to string) error {
	if c.Level < LevelFeed {
		return nil
	}
	n, err := t.nextSeq(seqChange)
	if err != nil {
		return err
	}
	b := t.chg
	start := len(b)
	b = append(b, 0, 0) // the record's length, filled in below
	b = binary.AppendUvarint(b, n)
	b = binary.AppendUvarint(b, t.index)
	b = appendStr(b, c.Type)
	b = appendTime(b, c.At)
	b = appendStr(b, kind)
	b = appendStr(b, id)
	b = appendStr(b, place)
	b = appendStr(b, action)
	b = appendStr(b, from)
	b = appendStr(b, to)
	size := len(b) - start - 2
	if size > 0xffff {
		return errs.Invalid("change", "length", "a change record of %d bytes", size)
	}
	binary.BigEndian.PutUint16(b[start:], uint16(size))
	t.chg = b
	t.chgSeqs = append(t.chgSeqs, n)
	t.changed = true
	return nil
}

// flushChanges appends the buffered changes to their chunks, then drops the
// chunks the retention has passed.
func (t *txn) flushChanges() error {
	if len(t.chgSeqs) == 0 {
		return nil
	}
	bk := t.b(bChange)
	rec := t.chg
	for i := 0; i < len(t.chgSeqs); {
		chunk := t.chgSeqs[i] / ChangeChunk
		var add []byte
		for ; i < len(t.chgSeqs) && t.chgSeqs[i]/ChangeChunk == chunk; i++ {
			size := int(binary.BigEndian.Uint16(rec))
			add, rec = append(add, rec[:2+size]...), rec[2+size:]
		}
		k := U64(chunk)
		if err := bk.Put(k, append(append([]byte(nil), bk.Get(k)...), add...)); err != nil {
			return err
		}
	}
	last := t.chgSeqs[len(t.chgSeqs)-1]
	t.chg, t.chgSeqs = t.chg[:0], t.chgSeqs[:0]
	if last <= ChangeRetention {
		return nil
	}
	// A chunk goes once every seq in it is older than the retention.
	keep := (last - ChangeRetention + 1) / ChangeChunk // the first chunk holding a kept seq
	c := bk.Cursor()
	for k, _ := c.First(); k != nil && GetU64(k) < keep; k, _ = c.First() {
		if err := bk.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// eachChange calls fn with each change of a stored chunk, in order.
func eachChange(v []byte, fn func(model.Change) bool) error {
	for len(v) > 0 {
		if len(v) < 2 || int(binary.BigEndian.Uint16(v))+2 > len(v) {
			return fmt.Errorf("core: corrupt change chunk")
		}
		size := int(binary.BigEndian.Uint16(v))
		r := wireReader{b: v[2 : 2+size]}
		v = v[2+size:]
		var ch model.Change
		ch.Seq = r.uvarint()
		ch.Index = r.uvarint()
		ch.Command = r.str()
		ch.At = r.time()
		ch.Kind = r.str()
		ch.ID = r.str()
		ch.Place = r.str()
		ch.Action = r.str()
		ch.From = r.str()
		ch.To = r.str()
		if !r.done() {
			return fmt.Errorf("core: corrupt change %d", ch.Seq)
		}
		if !fn(ch) {
			return nil
		}
	}
	return nil
}

// Changes reads up to limit changes after seq after, those keep says yes to
// (a scope filter; nil keeps all). Filtered changes still advance Next. A
// cursor the retention has passed is a conflict on field "after" naming the
// oldest change held.
func (e *Engine) Changes(after uint64, limit int, keep func(model.Change) bool) (model.ChangePage, error) {
	page := model.ChangePage{Next: after, Changes: []model.Change{}}
	err := e.View(func(tx *bbolt.Tx) error {
		page.Last = GetU64(tx.Bucket(BucketMeta).Get([]byte(metaSeq + seqChange)))
		if after > page.Last {
			return errs.Invalid("after", "range", "after %d is beyond the newest change %d", after, page.Last)
		}
		c := tx.Bucket(bChange).Cursor()
		if k, v := c.First(); k != nil {
			oldest := uint64(0)
			eachChange(v, func(ch model.Change) bool { oldest = ch.Seq; return false })
			if oldest > after+1 {
				return errs.Conflict("after", "compacted", "changes up to %d are gone; the oldest held is %d", oldest-1, oldest)
			}
		}
		for k, v := c.Seek(U64((after + 1) / ChangeChunk)); k != nil && len(page.Changes) < limit; k, v = c.Next() {
			err := eachChange(v, func(ch model.Change) bool {
				if ch.Seq <= after {
					return true
				}
				if len(page.Changes) == limit {
					return false
				}
				page.Next = ch.Seq
				if keep == nil || keep(ch) {
					page.Changes = append(page.Changes, ch)
				}
				return true
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return page, err
}

// ChangeNotify returns a channel closed at the next commit that appends
// changes: a reader waits on it instead of polling.
func (e *Engine) ChangeNotify() <-chan struct{} {
	e.notifyMu.Lock()
	defer e.notifyMu.Unlock()
	if e.notify == nil {
		e.notify = make(chan struct{})
	}
	return e.notify
}

// notifyChanges wakes the readers waiting on ChangeNotify.
func (e *Engine) notifyChanges() {
	e.notifyMu.Lock()
	defer e.notifyMu.Unlock()
	if e.notify != nil {
		close(e.notify)
		e.notify = nil
	}
}

// ChangeAckPayload advances a consumer's cursor.
type ChangeAckPayload struct {
	Consumer string `json:"consumer"`
	Seq      uint64 `json:"seq"`
}

// applyChangeAck advances a consumer's cursor; a cursor never moves back,
// so a stale acknowledgement (a retry, a deposed leader's) changes nothing.
func applyChangeAck(t *txn, c *Command, p *ChangeAckPayload) (any, error) {
	if last := t.seq(seqChange); p.Seq > last {
		return nil, errs.Invalid("seq", "range", "seq %d is beyond the newest change %d", p.Seq, last)
	}
	cur := GetU64(t.b(bChangeCursor).Get([]byte(p.Consumer)))
	if p.Seq <= cur {
		return cur, nil
	}
	return p.Seq, t.b(bChangeCursor).Put([]byte(p.Consumer), U64(p.Seq))
}

// ChangeCursor is the seq a consumer last acknowledged (0: none).
func (e *Engine) ChangeCursor(consumer string) (uint64, error) {
	var n uint64
	err := e.View(func(tx *bbolt.Tx) error {
		n = GetU64(tx.Bucket(bChangeCursor).Get([]byte(consumer)))
		return nil
	})
	return n, err
}

// ChangeBounds is the oldest change the feed holds and the newest (0 when
// it holds none).
func (e *Engine) ChangeBounds() (oldest, newest uint64, err error) {
	err = e.View(func(tx *bbolt.Tx) error {
		newest = GetU64(tx.Bucket(BucketMeta).Get([]byte(metaSeq + seqChange)))
		if _, v := tx.Bucket(bChange).Cursor().First(); v != nil {
			return eachChange(v, func(ch model.Change) bool { oldest = ch.Seq; return false })
		}
		return nil
	})
	return oldest, newest, err
}
