package model

import (
	"slices"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Satisfactions are the answers of a 回访评价.
var Satisfactions = []string{"satisfied", "basically_satisfied", "unsatisfied"}

// Check validates an action's fields: the input rules, run before proposing.
// The fields each action needs are the transition table's Needs.
func (a *Action) Check() error {
	if len(a.Note) > MaxText {
		return errs.Invalid("note", "length", "note is longer than %d bytes", MaxText)
	}
	if a.Action == "" {
		return errs.Invalid("action", "required", "action is required")
	}
	tr, ok := TransitionOf(a.Action)
	if !ok {
		return errs.Invalid("action", "enum", "unknown action %q", a.Action)
	}
	for _, field := range tr.Needs {
		switch field {
		case "passed":
			if a.Passed == nil {
				return errs.Invalid("passed", "required", "verify needs passed: true or false")
			}
		case "deadline":
			if a.Deadline == nil {
				return errs.Invalid("deadline", "required", "extend needs a new deadline")
			}
		case "satisfaction":
			if !slices.Contains(Satisfactions, a.Satisfaction) {
				return errs.Invalid("satisfaction", "enum", "satisfaction must be one of %v", Satisfactions)
			}
		default:
			v := a.text(field)
			if v == "" {
				return errs.Invalid(field, "required", "%s needs %s", a.Action, field)
			}
			if len(v) > MaxText {
				return errs.Invalid(field, "length", "%s is too long", field)
			}
		}
	}
	return nil
}

// text is the text field of the action a transition's Needs names.
func (a *Action) text(field string) string {
	switch field {
	case "handler":
		return a.Handler
	case "reason":
		return a.Reason
	case "into":
		return a.Into
	case "note":
		return a.Note
	}
	panic("model: the transition table needs an unknown field " + field)
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
