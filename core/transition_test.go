package core

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// Apply follows model.Transitions exactly: every action is refused as an
// illegal transition from every state the table does not list, and from
// every state it does list it leads where the table says.
func TestApplyFollowsTheTransitionTable(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	e.withParent(t)
	yes := true
	fields := func(action, into string) model.Action {
		d := e.clock.Now().AddDate(0, 2, 0)
		return model.Action{Action: action, Handler: "综治办", Reason: "r", Passed: &yes, Satisfaction: "satisfied",
			Deadline: &d, Into: into, Note: "n"}
	}
	report := func() string {
		ev, err := e.Events.Report(e.ctx, model.Report{Category: "sanitation", Description: "表", Grid: "511083001001001"})
		if err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	paths := map[model.Status][]string{
		model.StatusReported:   nil,
		model.StatusAccepted:   {"accept"},
		model.StatusDispatched: {"accept", "dispatch"},
		model.StatusInProgress: {"accept", "dispatch", "sign"},
		model.StatusResolved:   {"accept", "dispatch", "sign", "resolve"},
		model.StatusClosed:     {"accept", "dispatch", "sign", "resolve", "verify"},
		model.StatusSuspended:  {"accept", "suspend"},
		model.StatusRejected:   {"reject"},
		model.StatusMerged:     {"merge"},
		model.StatusEscalated:  {"escalate"},
	}
	for _, from := range model.Statuses {
		path, ok := paths[from]
		if !ok {
			t.Fatalf("no path to %s", from)
		}
		for _, tr := range model.Transitions {
			id, other := report(), report()
			for _, step := range path {
				if _, err := e.Events.Act(e.ctx, id, fields(step, other)); err != nil {
					t.Fatalf("reaching %s by %s: %v", from, step, err)
				}
			}
			before := mustDigest(t, e.Engine())
			ev, err := e.Events.Act(e.ctx, id, fields(tr.Action, other))
			switch {
			case !tr.Allows(from):
				if !errors.Is(err, errs.ErrIllegalTransition) {
					t.Fatalf("%s from %s: the table forbids it, apply said %v", tr.Action, from, err)
				}
				if mustDigest(t, e.Engine()) != before {
					t.Fatalf("%s from %s: refused but changed the state", tr.Action, from)
				}
			case from == model.StatusEscalated && tr.Action != "comment":
				// Held by the tier above: refused, naming it.
				if !errors.Is(err, errs.ErrConflict) || errs.Field(err) != "holder" {
					t.Fatalf("%s from escalated: %v, want a conflict naming the holder", tr.Action, err)
				}
			case err != nil:
				t.Fatalf("%s from %s: the table allows it, apply said %v", tr.Action, from, err)
			case len(tr.To) > 0 && !slices.Contains(tr.To, ev.Status):
				t.Fatalf("%s from %s led to %s, not one of %v", tr.Action, from, ev.Status, tr.To)
			case len(tr.To) == 0 && tr.Action != "resume" && ev.Status != from:
				t.Fatalf("%s from %s changed the state to %s", tr.Action, from, ev.Status)
			case tr.Action == "resume" && ev.Status != model.StatusAccepted:
				t.Fatalf("resume led to %s, not back to accepted", ev.Status)
			}
			e.clock.Set(e.clock.Now().Add(time.Minute))
		}
	}
}

// Every action the input rules know is in the table, and no other.
func TestTransitionTableCoversEveryAction(t *testing.T) {
	for _, tr := range model.Transitions {
		a := model.Action{Action: tr.Action, Note: "n", Handler: "h", Reason: "r", Into: "x", Satisfaction: "satisfied"}
		yes := true
		d := time.Now()
		a.Passed, a.Deadline = &yes, &d
		if err := a.Check(); err != nil {
			t.Fatalf("%s: in the table but refused by the input rules: %v", tr.Action, err)
		}
		if len(tr.From) == 0 || tr.Name == "" {
			t.Fatalf("%s: a row needs its states and its 中文 name", tr.Action)
		}
	}
	a := model.Action{Action: "teleport"}
	if err := a.Check(); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("an action outside the table: %v", err)
	}
}
