package state

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/divisions"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/workcal"
)

func evLocKey(ev *model.Event) string {
	if ev.Grid != "" {
		return ev.Grid
	}
	return ev.Jurisdiction
}

func timelineKey(id string, rev int) []byte {
	k := make([]byte, len(id)+5)
	copy(k, id)
	k[len(id)] = '/'
	binary.BigEndian.PutUint32(k[len(id)+1:], uint32(rev))
	return k
}

func (t *txn) loadEvent(field, id string) (*model.Event, error) {
	return load[model.Event](t, BucketEvent, id, field, "event")
}

// scopedEvent loads an event the command may see.
func (t *txn) scopedEvent(c *Command, field, id string) (*model.Event, error) {
	return loadIn(t, c, BucketEvent, id, field, "event", (*model.Event).Place)
}

func deadlineKey(ev *model.Event) []byte {
	return []byte(ixDeadline + timeKey(ev.Deadline.Unix()) + ev.ID)
}

// index writes (add) or removes (!add) ev's index entries for its current state.
func (t *txn) indexEvent(ev *model.Event, add bool) {
	loc := evLocKey(ev)
	// Keys go straight into the index buffer as bucket\x00key strings.
	const pre = evIndexName + "\x00"
	t.bufferIndexKey(pre+IxStatus+string(ev.Status)+"/"+loc+"/"+ev.ID, add)
	t.bufferIndexKey(pre+ixCategory+ev.Category+"/"+loc+"/"+ev.ID, add)
	if ev.Status.Active() && !ev.Overdue {
		t.bufferIndexKey(pre+string(deadlineKey(ev)), add)
	}
	if ev.Overdue && ev.Status.Open() {
		t.bufferIndexKey(pre+ixOverdue+loc+"/"+ev.ID, add)
	}
}

func (t *txn) saveEvent(ev *model.Event, c *Command, action string, from model.Status, note string, data map[string]string) error {
	ev.Rev++
	e := model.TimelineEntry{Rev: ev.Rev, At: c.At, Actor: c.Actor, Action: action, From: from, To: ev.Status, Note: note, Data: data}
	if err := t.putRecord(BucketEvent, timelineKey(ev.ID, ev.Rev), e); err != nil {
		return err
	}
	if err := t.putRecord(BucketEvent, []byte(ev.ID), ev); err != nil {
		return err
	}
	return t.change(c, model.ChangeEvent, ev.ID, ev.Place(), action, string(from), string(ev.Status))
}

func decodeReport(c *Command) (any, error) {
	var r model.Report
	if err := decodePayload(c, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// reportEvent creates an event; other commands (lost contact, overdue visits)
// open events through it too, inside their own transaction.
func (t *txn) reportEvent(c *Command, r *model.Report) (*model.Event, error) {
	if inputRules(c) {
		if err := r.Check(); err != nil {
			return nil, err
		}
	}
	if _, ok, err := t.category(r.Category); err != nil {
		return nil, err
	} else if !ok {
		return nil, errs.Invalid("category", "enum", "unknown category %q", r.Category)
	}
	if err := t.checkAttachments(c, r.Attachments); err != nil {
		return nil, err
	}
	jur := r.Jurisdiction
	if r.Grid != "" {
		g, err := t.gridRef(r.Grid)
		if err != nil {
			return nil, err
		}
		if g == nil || g.Status != model.GridActive || hidden(c, r.Grid) {
			return nil, errs.NotFound("grid", "active grid %s not found", r.Grid)
		}
		if jur != "" && !IsUnder(g.Jurisdiction, jur) {
			return nil, errs.Invalid("grid", "scope", "grid %s is not under jurisdiction %s", r.Grid, jur)
		}
		jur = g.Jurisdiction
	} else {
		j, err := loadIn(t, c, bJur, jur, "jurisdiction", "jurisdiction", jurPlace)
		if err != nil {
			return nil, err
		}
		if j.Tier == divisions.Province || j.Tier == divisions.City {
			return nil, errs.Invalid("jurisdiction", "tier", "an event belongs to a county or below, not a %s", j.Tier)
		}
	}
	acceptBy, deadline, err := t.deadlines(r.Category, r.Urgency, c.At)
	if err != nil {
		return nil, err
	}
	// In a federation each group numbers under its own code, so two tiers
	// that can both report in one township never hand out the same number.
	scope := jur
	if self := t.self(); self != "" {
		scope = self
	}
	prefix := EventNumberPrefix(scope, c.At)
	n, err := t.nextSeq("ev/" + prefix)
	if err != nil {
		return nil, err
	}
	ev := &model.Event{
		ID: fmt.Sprintf("%s-%06d", prefix, n), Status: model.StatusReported, Source: r.Source, Category: r.Category,
		Urgency: r.Urgency, Location: r.Location, Grid: r.Grid, Jurisdiction: jur, Reporter: r.Reporter,
		PhoneMasked: r.PhoneMasked, PhoneSealed: r.PhoneSealed, ContactTime: r.ContactTime, EmailMasked: r.EmailMasked, EmailSealed: r.EmailSealed, ReporterSealed: r.ReporterSealed,
		Description: r.Description, Attachments: r.Attachments, ReportedAt: c.At, AcceptBy: acceptBy,
		Deadline: deadline, Period: c.At.In(workcal.CST).Format("200601"), ReportedBy: c.Actor, Rev: 1, Ext: r.Ext,
	}
	// The report is timeline entry 1; it is read back from the event itself.
	if err := t.putRecord(BucketEvent, []byte(ev.ID), ev); err != nil {
		return nil, err
	}
	if err := t.change(c, model.ChangeEvent, ev.ID, ev.Place(), "report", "", string(model.StatusReported)); err != nil {
		return nil, err
	}
	t.indexEvent(ev, true)
	t.bump(ev, func(cs *counterSet) { cs[mReported]++; cs[statusSlot(model.StatusReported)]++ })
	return ev, nil
}

// IsUnder reports whether code lies in the subtree of ancestor.
func IsUnder(code, ancestor string) bool { return access.Under(code, ancestor) }

// ActPayload is the payload of event.act.
type ActPayload struct {
	ID     string       `json:"id"`
	Action model.Action `json:"action"`
}

func applyEventAct(t *txn, c *Command, p *ActPayload) (any, error) {
	a := p.Action
	if inputRules(c) {
		if err := a.Check(); err != nil {
			return nil, err
		}
	}
	ev, err := t.scopedEvent(c, "id", p.ID)
	if err != nil {
		return nil, err
	}
	if c.Level >= LevelDaily {
		if err := t.mayHandle(c, ev); err != nil {
			return nil, err
		}
		if a.Action == "dispatch" {
			if err := t.checkHandler(ev, a.Handler); err != nil {
				return nil, err
			}
		}
	}
	from := ev.Status
	old := *ev
	data := map[string]string{}
	note := a.Note
	// The transition table says from where an action may be taken; the
	// switch below does what each one changes.
	if tr, _ := model.TransitionOf(a.Action); !tr.Allows(from) {
		return nil, errs.Illegal(a.Action, string(from))
	}
	if c.Level >= LevelDaily && ev.EscalatedTo != "" && a.Action != "comment" {
		// One state per event across tiers: the tier it was escalated to
		// holds it, and this copy follows its outcomes.
		return nil, errs.Conflict("holder", "held_elsewhere", "event %s is held by %s, the tier it was escalated to: act there (a comment may be added here)", ev.ID, ev.EscalatedTo)
	}
	var bumps []func(*counterSet)

	switch a.Action {
	case "accept":
		ev.Status, ev.AcceptedAt = model.StatusAccepted, c.At
		inTime := !c.At.After(ev.AcceptBy)
		bumps = append(bumps, func(cs *counterSet) {
			cs[mAccepted]++
			if inTime {
				cs[mAcceptedInTime]++
			}
		})
	case "reject":
		ev.Status = model.StatusRejected
		data["reason"] = a.Reason
		bumps = append(bumps, func(cs *counterSet) { cs[mRejected]++ })
	case "dispatch":
		if a.Deadline != nil {
			if !a.Deadline.After(c.At) {
				return nil, errs.Invalid("deadline", "future", "deadline must be in the future")
			}
			ev.Deadline = a.Deadline.UTC()
			data["deadline"] = ev.Deadline.Format("2006-01-02T15:04:05Z")
		}
		ev.Status, ev.Handler = model.StatusDispatched, a.Handler
		data["handler"] = a.Handler
		if err := t.dispatchDown(c, ev, note); err != nil {
			return nil, err
		}
	case "sign":
		ev.Status = model.StatusInProgress
	case "return":
		if c.Level >= LevelDaily {
			data["handler"] = ev.Handler // who gave it back
		}
		ev.Status, ev.Handler = model.StatusAccepted, ""
		data["reason"] = a.Reason
	case "resolve":
		ev.Status = model.StatusResolved
	case "verify":
		if *a.Passed {
			ev.Status, ev.ClosedAt = model.StatusClosed, c.At
			data["passed"] = "true"
		} else {
			ev.Status = model.StatusInProgress
			data["passed"] = "false"
		}
	case "rate":
		if ev.Satisfaction != "" {
			return nil, errs.Conflict("action", "rated", "event %s was already rated", ev.ID)
		}
		data["satisfaction"] = a.Satisfaction
		satisfied := a.Satisfaction != "unsatisfied"
		bumps = append(bumps, func(cs *counterSet) {
			cs[mRated]++
			if satisfied {
				cs[mSatisfied]++
			}
		})
		if satisfied {
			ev.Satisfaction = a.Satisfaction
		} else {
			ev.Status = model.StatusInProgress // reopened; the next closure can be rated again
		}
	case "extend":
		if !a.Deadline.After(ev.Deadline) {
			return nil, errs.Invalid("deadline", "later", "the new deadline must be after the current one (%s)", ev.Deadline.Format("2006-01-02T15:04Z07:00"))
		}
		ev.Deadline = a.Deadline.UTC()
		data["deadline"], data["reason"] = ev.Deadline.Format("2006-01-02T15:04:05Z"), a.Reason
	case "suspend":
		ev.Status, ev.Prior, ev.SuspendedAt = model.StatusSuspended, from, c.At
		data["reason"] = a.Reason
	case "resume":
		cal, err := t.calendar()
		if err != nil {
			return nil, err
		}
		// The clock was paused: push deadlines back by the working time suspended.
		paused := cal.Between(ev.SuspendedAt, c.At)
		ev.Deadline = cal.Add(ev.Deadline, paused).UTC()
		if ev.AcceptedAt.IsZero() {
			ev.AcceptBy = cal.Add(ev.AcceptBy, paused).UTC()
		}
		ev.Status, ev.Prior, ev.SuspendedAt = ev.Prior, "", time.Time{}
		data["paused_minutes"] = fmt.Sprint(int(paused.Minutes()))
	case "supervise":
		first := ev.Supervised == 0
		ev.Supervised++
		ev.Priority++
		if err := t.superviseDown(c, ev, note); err != nil {
			return nil, err
		}
		if first {
			bumps = append(bumps, func(cs *counterSet) { cs[mSupervised]++ })
		}
	case "escalate":
		if c.Level >= LevelEscalation {
			if pl, err := t.parentLink(); err != nil {
				return nil, err
			} else if pl == nil {
				return nil, errs.Conflict("action", "no_parent", "there is no tier above this jurisdiction to escalate to: link a parent first (federation)")
			}
		}
		ev.Status = model.StatusEscalated
		if err := t.escalate(c, ev, note); err != nil {
			return nil, err
		}
		if ev.EscalatedTo != "" {
			data["to"] = ev.EscalatedTo
		}
	case "merge":
		if a.Into == ev.ID {
			return nil, errs.Invalid("into", "self", "an event cannot be merged into itself")
		}
		target, err := t.scopedEvent(c, "into", a.Into)
		if err != nil {
			return nil, err
		}
		if !target.Status.Open() {
			return nil, errs.Conflict("into", "closed", "target %s is %s, not open", target.ID, target.Status)
		}
		target.Merged = append(target.Merged, ev.ID)
		if err := t.saveEvent(target, c, "merged_in", target.Status, "", map[string]string{"from": ev.ID}); err != nil {
			return nil, err
		}
		ev.Status, ev.MergedInto = model.StatusMerged, target.ID
		data["into"] = target.ID
		bumps = append(bumps, func(cs *counterSet) { cs[mMerged]++ })
	case "self_resolve":
		cat, _, err := t.category(ev.Category)
		if err != nil {
			return nil, err
		}
		if !cat.Minor {
			return nil, errs.Conflict("action", "not_minor", "category %s is not a minor matter; it cannot be settled on the spot", ev.Category)
		}
		ev.Status, ev.ClosedAt, ev.AcceptedAt = model.StatusClosed, c.At, c.At
		inTime := !c.At.After(ev.AcceptBy)
		bumps = append(bumps, func(cs *counterSet) {
			cs[mSelfResolved]++
			cs[mAccepted]++
			if inTime {
				cs[mAcceptedInTime]++
			}
		})
	case "comment":
	}

	if err := t.settle(c, ev, &old, a.Action, note, data, bumps); err != nil {
		return nil, err
	}
	return ev, nil
}

// settle moves ev's indexes and counters from old to its new state, writes
// the timeline entry and, for an event that came from another jurisdiction,
// sends the outcome back when it ends.
func (t *txn) settle(c *Command, ev, old *model.Event, action, note string, data map[string]string, bumps []func(*counterSet)) error {
	from := old.Status
	t.indexEvent(old, false)
	t.indexEvent(ev, true)
	if len(data) == 0 {
		data = nil
	}
	if err := t.saveEvent(ev, c, action, from, note, data); err != nil {
		return err
	}
	if from != ev.Status {
		bumps = append(bumps, func(cs *counterSet) { cs[statusSlot(from)]--; cs[statusSlot(ev.Status)]++ })
	}
	t.bump(ev, func(cs *counterSet) {
		for _, b := range bumps {
			b(cs)
		}
	})
	if ev.Origin != "" && c.Level >= LevelDaily && t.escalatedIn(ev) {
		return t.sendWholeOutcome(c, ev, from, action, note, data)
	}
	if ev.Origin != "" && from != ev.Status && (ev.Status == model.StatusClosed || ev.Status == model.StatusRejected) {
		return t.send(c, ev.Origin, model.KindOutcome, outcomeBody{ID: ev.ID, Status: ev.Status, Note: note})
	}
	return nil
}

func applyEventSweep(t *txn, c *Command, p *IdsPayload) (any, error) {
	ids, err := p.ids(10000)
	if err != nil {
		return nil, err
	}
	marked := 0
	for _, id := range ids {
		ev, err := t.loadEvent("ids", id)
		if err != nil {
			return nil, err
		}
		// The state may have moved on since the sweeper looked: skip, don't fail.
		if !ev.Status.Active() || ev.Overdue || !c.At.After(ev.Deadline) {
			continue
		}
		t.indexEvent(ev, false)
		ev.Overdue = true
		t.indexEvent(ev, true)
		if err := t.saveEvent(ev, c, "overdue", ev.Status, "", nil); err != nil {
			return nil, err
		}
		t.bump(ev, func(cs *counterSet) { cs[mOverdue]++ })
		marked++
	}
	return marked, nil
}
