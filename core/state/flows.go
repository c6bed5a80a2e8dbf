package state

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"go.etcd.io/bbolt"
)

type handoffBody struct {
	Event model.Event `json:"event"`
	Note  string      `json:"note,omitempty"`
}

type outcomeBody struct {
	ID     string       `json:"id"`
	Status model.Status `json:"status"`
	Note   string       `json:"note,omitempty"`
	// From LevelDaily the outcome returns whole: what ended it, who
	// handled it, why it was declined, where it was merged, how the
	// reporter rated it. A receiver older than that refuses these fields:
	// upgrade the lower tiers first.
	Action       string `json:"action,omitempty"`
	Handler      string `json:"handler,omitempty"`
	Reason       string `json:"reason,omitempty"`
	Into         string `json:"into,omitempty"`
	Satisfaction string `json:"satisfaction,omitempty"`
}

type supervisionBody struct {
	ID   string `json:"id"`
	Note string `json:"note,omitempty"`
}

// shareable is the copy of ev that may cross l.
func shareable(ev *model.Event, l *model.Link) model.Event {
	cp := *ev
	if !l.Shares(model.ShareReporter) {
		cp.Reporter = ""
	}
	cp.Rev, cp.Attachments = 1, nil
	return cp
}

// escalate hands ev to the parent, when this jurisdiction has one.
func (t *txn) escalate(c *Command, ev *model.Event, note string) error {
	pl, err := t.parentLink()
	if err != nil || pl == nil {
		return err
	}
	ev.EscalatedTo = pl.Peer
	return t.send(c, pl.Peer, model.KindEscalation, handoffBody{Event: shareable(ev, pl), Note: note})
}

// childLink returns the link to code when it is a child, else nil.
func (t *txn) childLink(code string) *model.Link {
	l, err := t.link("handler", code)
	if err != nil || l.Relation != model.RelChild {
		return nil
	}
	return l
}

// dispatchDown hands ev to a child jurisdiction named as its handler.
func (t *txn) dispatchDown(c *Command, ev *model.Event, note string) error {
	l := t.childLink(ev.Handler)
	if l == nil {
		return nil
	}
	return t.send(c, l.Peer, model.KindDispatch, handoffBody{Event: shareable(ev, l), Note: note})
}

// superviseDown passes 督办 on to the child handling ev.
func (t *txn) superviseDown(c *Command, ev *model.Event, note string) error {
	if ev.Status != model.StatusDispatched && ev.Status != model.StatusInProgress {
		return nil
	}
	l := t.childLink(ev.Handler)
	if l == nil {
		return nil
	}
	return t.send(c, l.Peer, model.KindSupervision, supervisionBody{ID: ev.ID, Note: note})
}

// receiveHandoff creates the receiver's copy of an escalated or dispatched
// event under the same number, to be handled here from 受理 on.
func receiveHandoff(from, action string) func(t *txn, c *Command, l *model.Link, m *model.Message) error {
	return func(t *txn, c *Command, l *model.Link, m *model.Message) error {
		if l.Relation != from {
			return errs.Forbidden("kind", "direction", "%s messages come from a %s, and %s is a %s", m.Kind, from, l.Peer, l.Relation)
		}
		var b handoffBody
		if err := DecodeBody(m, &b); err != nil {
			return err
		}
		in := b.Event
		if in.ID == "" || in.Category == "" {
			return errs.Invalid("body.event", "required", "event id and category are required")
		}
		if t.b(BucketEvent).Get([]byte(in.ID)) != nil {
			return errs.Conflict("body.event.id", "exists", "event %s is already here", in.ID)
		}
		if _, ok, err := t.category(in.Category); err != nil {
			return err
		} else if !ok {
			return errs.Invalid("body.event.category", "enum", "unknown category %q", in.Category)
		}
		acceptBy, deadline, err := t.deadlines(in.Category, in.Urgency, c.At)
		if err != nil {
			return err
		}
		ev := &model.Event{ID: in.ID, Status: model.StatusReported, Source: in.Source, Category: in.Category, Urgency: in.Urgency,
			Location: in.Location, Grid: in.Grid, Jurisdiction: in.Jurisdiction, Reporter: in.Reporter,
			Description: in.Description, ReportedAt: in.ReportedAt, ReportedBy: in.ReportedBy, AcceptBy: acceptBy,
			Deadline: deadline, Period: in.Period, Priority: in.Priority, Supervised: in.Supervised, Origin: m.Origin, Rev: 1}
		if from == model.RelParent && in.Deadline.After(c.At) {
			ev.Deadline = in.Deadline // 交办 carries the deadline set above
		}
		if ev.Period == "" {
			ev.Period = c.At.Format("200601")
		}
		if err := t.putRecord(BucketEvent, []byte(ev.ID), ev); err != nil {
			return err
		}
		t.indexEvent(ev, true)
		t.bump(ev, func(cs *counterSet) { cs[mReported]++; cs[statusSlot(model.StatusReported)]++ })
		return t.saveEvent(ev, c, action, model.StatusReported, b.Note, map[string]string{"from": m.Origin})
	}
}

// receiveOutcome closes the loop at the origin: an escalated event ends as
// the tier above ended it; a dispatched one comes back resolved, to verify.
func receiveOutcome(t *txn, c *Command, l *model.Link, m *model.Message) error {
	var b outcomeBody
	if err := DecodeBody(m, &b); err != nil {
		return err
	}
	ev, err := t.loadEvent("body.id", b.ID)
	if err != nil {
		return err
	}
	old := *ev
	data := map[string]string{"from": m.Origin, "status": string(b.Status)}
	if b.Action != "" {
		wholeOutcome(ev, &b, data, c.At)
		return t.settle(c, ev, &old, "outcome", b.Note, data, nil)
	}
	switch {
	case ev.Status == model.StatusEscalated && ev.EscalatedTo == m.Origin:
		if b.Status == model.StatusClosed {
			ev.Status, ev.ClosedAt = model.StatusClosed, c.At
		} else {
			ev.Status = model.StatusAccepted // declined above: handled here again
		}
	case (ev.Status == model.StatusDispatched || ev.Status == model.StatusInProgress) && ev.Handler == m.Origin:
		if b.Status == model.StatusClosed {
			ev.Status = model.StatusResolved
		} else {
			ev.Status, ev.Handler = model.StatusAccepted, ""
		}
	}
	return t.settle(c, ev, &old, "outcome", b.Note, data, nil)
}

// wholeOutcome applies an outcome that returned whole (LevelDaily) to the
// origin's copy of an event held above: the state the holder reached, and
// its handler, reasons, merge target and rating in the timeline.
func wholeOutcome(ev *model.Event, b *outcomeBody, data map[string]string, at time.Time) {
	for k, v := range map[string]string{"action": b.Action, "handler": b.Handler, "reason": b.Reason, "into": b.Into, "satisfaction": b.Satisfaction} {
		if v != "" {
			data[k] = v
		}
	}
	if ev.EscalatedTo == "" {
		return // not held above: the timeline records it, nothing changes
	}
	switch b.Status {
	case model.StatusClosed:
		if ev.Status != model.StatusClosed {
			ev.Status, ev.ClosedAt = model.StatusClosed, at
		}
		if b.Satisfaction != "" {
			ev.Satisfaction = b.Satisfaction
		}
	case model.StatusRejected:
		ev.Status, ev.EscalatedTo = model.StatusAccepted, "" // declined above: handled here again
	case model.StatusMerged:
		ev.Status, ev.MergedInto = model.StatusMerged, b.Into
	default:
		ev.Status = model.StatusEscalated // reopened above
	}
}

// escalatedIn reports whether ev came up from a child (上报): its outcome
// then returns whole to the origin, which holds nothing until it does.
func (t *txn) escalatedIn(ev *model.Event) bool {
	l, err := t.link("origin", ev.Origin)
	return err == nil && l.Relation == model.RelChild
}

// sendWholeOutcome tells the origin of an escalated event each step that
// ends or reopens it here, whole: closed (with the resolve note and the
// handler), declined (with the reason), merged (with the target), and the
// 回访 rating.
func (t *txn) sendWholeOutcome(c *Command, ev *model.Event, from model.Status, action, note string, data map[string]string) error {
	ended := from != ev.Status && (ev.Status == model.StatusClosed || ev.Status == model.StatusRejected || ev.Status == model.StatusMerged)
	if !ended && action != "rate" {
		return nil
	}
	b := outcomeBody{ID: ev.ID, Status: ev.Status, Note: note, Action: action, Handler: ev.Handler, Reason: data["reason"],
		Into: ev.MergedInto, Satisfaction: data["satisfaction"]}
	if action == "verify" {
		if n, err := t.lastNote(ev.ID, "resolve"); err != nil {
			return err
		} else if n != "" {
			b.Note = n // the handler's account, not the checker's
		}
	}
	return t.send(c, ev.Origin, model.KindOutcome, b)
}

// lastNote is the note of an event's latest timeline entry of action.
func (t *txn) lastNote(id, action string) (string, error) {
	pre := []byte(id + "/")
	cur := t.b(BucketEvent).Cursor()
	k, v := cur.Seek(append(append([]byte(nil), pre...), 0xff))
	if k == nil {
		k, v = cur.Last()
	} else {
		k, v = cur.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, pre); k, v = cur.Prev() {
		if len(k) != len(pre)+4 {
			continue
		}
		var te model.TimelineEntry
		if err := decodeRecord(v, &te); err != nil {
			return "", err
		}
		if te.Action == action {
			return te.Note, nil
		}
	}
	return "", nil
}

func receiveSupervision(t *txn, c *Command, l *model.Link, m *model.Message) error {
	if l.Relation != model.RelParent {
		return errs.Forbidden("kind", "direction", "supervision comes from the tier above; %s is a %s", l.Peer, l.Relation)
	}
	var b supervisionBody
	if err := DecodeBody(m, &b); err != nil {
		return err
	}
	ev, err := t.loadEvent("body.id", b.ID)
	if err != nil {
		return err
	}
	if ev.Origin != m.Origin {
		return errs.NotFound("body.id", "event %s was not handed here by %s", b.ID, m.Origin)
	}
	old := *ev
	var bumps []func(*counterSet)
	if ev.Status.Open() {
		if ev.Supervised == 0 {
			bumps = append(bumps, func(cs *counterSet) { cs[mSupervised]++ })
		}
		ev.Supervised++
		ev.Priority++
	}
	return t.settle(c, ev, &old, "supervise", b.Note, map[string]string{"from": m.Origin}, bumps)
}

type rollupBody struct {
	Rollups []model.Rollup `json:"rollups"`
}

func receiveRollup(t *txn, c *Command, l *model.Link, m *model.Message) error {
	if l.Relation != model.RelChild {
		return errs.Forbidden("kind", "direction", "rollups come from the tier below; %s is a %s", l.Peer, l.Relation)
	}
	var b rollupBody
	if err := DecodeBody(m, &b); err != nil {
		return err
	}
	for i, r := range b.Rollups {
		if !model.ValidCode(r.Code) || !IsUnder(r.Code, l.Peer) {
			return errs.Forbidden("body.rollups["+strconv.Itoa(i)+"].code", "scope", "%s is not in %s's subtree", r.Code, l.Peer)
		}
		var cur model.Rollup
		if ok, err := t.getRecord(bRollup, []byte(r.Code), &cur); err != nil {
			return err
		} else if ok && !r.AsOf.After(cur.AsOf) {
			continue
		}
		if r.Code != l.Peer {
			r.Via = l.Peer
		}
		if err := t.putRecord(bRollup, []byte(r.Code), r); err != nil {
			return err
		}
	}
	return nil
}

// applyRollupSend sends this jurisdiction's figures, and those it holds for
// its subtree, to the tier above.
func applyRollupSend(t *txn, c *Command, _ *struct{}) (any, error) {
	pl, err := t.parentLink()
	if err != nil || pl == nil {
		return 0, err
	}
	self := t.self()
	own := figuresFrom(self, "", "", t.counterValue(counterJur+PrefixOf(self)+"//"))
	held, err := prefixValues[model.Rollup](t.tx, bRollup, nil, 0, nil)
	if err != nil {
		return nil, err
	}
	rs := []model.Rollup{{Code: self, AsOf: c.At, Figures: own}}
	for _, r := range held {
		r.Via = ""
		rs = append(rs, r)
	}
	return len(rs), t.send(c, pl.Peer, model.KindRollup, rollupBody{Rollups: rs})
}

// Rollups returns the figures heard from the subtree, by jurisdiction.
func (eng *Engine) Rollups() ([]model.Rollup, error) {
	var out []model.Rollup
	err := eng.View(func(tx *bbolt.Tx) (err error) {
		out, err = prefixValues[model.Rollup](tx, bRollup, nil, 0, nil) // keyed by code: sorted
		return err
	})
	return out, err
}

// Rollup returns the figures last heard for code.
func (eng *Engine) Rollup(code string) (model.Rollup, bool, error) {
	var r model.Rollup
	var ok bool
	err := eng.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bRollup).Get([]byte(code))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &r)
	})
	return r, ok, err
}
