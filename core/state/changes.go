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

// ChangeRetention is how many changes the feed keeps.
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

// change appends one change for command c, when its level keeps a feed.
func (t *txn) change(c *Command, kind, id, place, action, from, to string) error {
	if c.Level < LevelFeed {
		return nil
	}
	n, err := t.nextSeq(seqChange)
	if err != nil {
		return err
	}
	b := make([]byte, 0, 96+len(c.Type)+len(id)+len(place))
	b = binary.AppendUvarint(b, t.index)
	b = appendStr(b, c.Type)
	b = appendTime(b, c.At)
	b = appendStr(b, kind)
	b = appendStr(b, id)
	b = appendStr(b, place)
	b = appendStr(b, action)
	b = appendStr(b, from)
	b = appendStr(b, to)
	if err := t.b(bChange).Put(U64(n), b); err != nil {
		return err
	}
	t.changed = true
	if n > ChangeRetention {
		return t.b(bChange).Delete(U64(n - ChangeRetention))
	}
	return nil
}

func decodeChange(k, v []byte) (model.Change, error) {
	r := wireReader{b: v}
	ch := model.Change{Seq: GetU64(k)}
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
		return ch, fmt.Errorf("core: corrupt change %d", ch.Seq)
	}
	return ch, nil
}

// Changes reads up to limit changes after seq after, those keep says yes to
// (a scope filter; nil keeps all). Filtered changes still advance Next. A
// cursor the retention has passed is a conflict on field "after" naming the
// oldest change held.
func (e *Engine) Changes(after uint64, limit int, keep func(model.Change) bool) (model.ChangePage, error) {
	page := model.ChangePage{Next: after, Changes: []model.Change{}}
	err := e.View(func(tx *bbolt.Tx) error {
		page.Last = GetU64(tx.Bucket(BucketMeta).Get([]byte(metaSeq + seqChange)))
		c := tx.Bucket(bChange).Cursor()
		first, _ := c.First()
		if first != nil && GetU64(first) > after+1 {
			return errs.Conflict("after", "compacted", "changes up to %d are gone; the oldest held is %d", GetU64(first)-1, GetU64(first))
		}
		if after > page.Last {
			return errs.Invalid("after", "range", "after %d is beyond the newest change %d", after, page.Last)
		}
		for k, v := c.Seek(U64(after + 1)); k != nil && len(page.Changes) < limit; k, v = c.Next() {
			ch, err := decodeChange(k, v)
			if err != nil {
				return err
			}
			page.Next = ch.Seq
			if keep == nil || keep(ch) {
				page.Changes = append(page.Changes, ch)
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
