package model

import (
	"slices"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Satisfactions are the answers of a 回访评价.
var Satisfactions = []string{"satisfied", "basically_satisfied", "unsatisfied"}

// Check validates an action's fields: the input rules, run before proposing.
func (a *Action) Check() error {
	if len(a.Note) > MaxText {
		return errs.Invalid("note", "length", "note is longer than %d bytes", MaxText)
	}
	need := func(field, v string) error {
		if v == "" {
			return errs.Invalid(field, "required", "%s needs %s", a.Action, field)
		}
		if len(v) > MaxText {
			return errs.Invalid(field, "length", "%s is too long", field)
		}
		return nil
	}
	switch a.Action {
	case "accept", "sign", "resolve", "supervise", "escalate", "resume", "self_resolve", "comment":
		if a.Action == "comment" {
			return need("note", a.Note)
		}
		return nil
	case "dispatch":
		return need("handler", a.Handler)
	case "reject", "return", "suspend":
		return need("reason", a.Reason)
	case "verify":
		if a.Passed == nil {
			return errs.Invalid("passed", "required", "verify needs passed: true or false")
		}
		return nil
	case "rate":
		if !slices.Contains(Satisfactions, a.Satisfaction) {
			return errs.Invalid("satisfaction", "enum", "satisfaction must be one of %v", Satisfactions)
		}
		return nil
	case "extend":
		if a.Deadline == nil {
			return errs.Invalid("deadline", "required", "extend needs a new deadline")
		}
		return need("reason", a.Reason)
	case "merge":
		return need("into", a.Into)
	case "":
		return errs.Invalid("action", "required", "action is required")
	}
	return errs.Invalid("action", "enum", "unknown action %q", a.Action)
}

// Transition is one row of the event transition table of DESIGN.md: an
// action, the states it may be taken from and the states it may lead to.
// Apply, the API's list of allowed actions and the console all read this
// one table.
type Transition struct {
	Action string   `json:"action"`
	Name   string   `json:"name"`   // 中文
	From   []Status `json:"from"`   // the states the action may be taken from
	To     []Status `json:"to"`     // where it may lead; empty: the state is unchanged (or, for resume, the state before suspension)
	Needs  []string `json:"needs"`  // the fields it requires besides action
	Note   string   `json:"detail"` // what decides between several outcomes, when there are
}

// open and active are the states of Status.Open and Status.Active.
var (
	open   = []Status{StatusReported, StatusAccepted, StatusDispatched, StatusInProgress, StatusResolved, StatusSuspended}
	active = []Status{StatusReported, StatusAccepted, StatusDispatched, StatusInProgress, StatusResolved}
)

// Transitions is the event transition table, in the order of DESIGN.md.
var Transitions = []Transition{
	{Action: "accept", Name: "受理", From: []Status{StatusReported}, To: []Status{StatusAccepted}},
	{Action: "reject", Name: "不予受理", From: []Status{StatusReported}, To: []Status{StatusRejected}, Needs: []string{"reason"}},
	{Action: "dispatch", Name: "派遣", From: []Status{StatusAccepted}, To: []Status{StatusDispatched}, Needs: []string{"handler"}},
	{Action: "sign", Name: "签收", From: []Status{StatusDispatched}, To: []Status{StatusInProgress}},
	{Action: "return", Name: "退回", From: []Status{StatusDispatched, StatusInProgress}, To: []Status{StatusAccepted}, Needs: []string{"reason"}},
	{Action: "resolve", Name: "处置反馈", From: []Status{StatusInProgress}, To: []Status{StatusResolved}},
	{Action: "verify", Name: "核查", From: []Status{StatusResolved}, To: []Status{StatusClosed, StatusInProgress}, Needs: []string{"passed"},
		Note: "passed: closed; failed: back in progress"},
	{Action: "rate", Name: "回访评价", From: []Status{StatusClosed}, To: []Status{StatusClosed, StatusInProgress}, Needs: []string{"satisfaction"},
		Note: "satisfied: stays closed; unsatisfied: reopened"},
	{Action: "extend", Name: "延期", From: open, Needs: []string{"deadline", "reason"}},
	{Action: "suspend", Name: "挂账", From: active, To: []Status{StatusSuspended}, Needs: []string{"reason"}},
	{Action: "resume", Name: "恢复", From: []Status{StatusSuspended}, Note: "back to the state it was suspended in"},
	{Action: "supervise", Name: "督办", From: open},
	{Action: "escalate", Name: "上报上级", From: active, To: []Status{StatusEscalated}},
	{Action: "merge", Name: "合并", From: active, To: []Status{StatusMerged}, Needs: []string{"into"}},
	{Action: "self_resolve", Name: "小事一格解决", From: []Status{StatusReported}, To: []Status{StatusClosed}, Note: "minor categories only"},
	{Action: "comment", Name: "备注", From: Statuses, Needs: []string{"note"}},
}

// TransitionOf returns the row for an action.
func TransitionOf(action string) (Transition, bool) {
	for _, t := range Transitions {
		if t.Action == action {
			return t, true
		}
	}
	return Transition{}, false
}

// Allows reports whether the action may be taken from state s.
func (t Transition) Allows(s Status) bool { return slices.Contains(t.From, s) }

// ActionsFrom lists the actions the table allows from state s, in table order.
func ActionsFrom(s Status) []string {
	var out []string
	for _, t := range Transitions {
		if t.Allows(s) {
			out = append(out, t.Action)
		}
	}
	return out
}
