package api

import (
	"net/http"
	"slices"
	"testing"
)

// An event's answer lists the actions this token may take now, from
// core/access: the table's actions from its state, less the role's limits.
func TestEventAnswerListsTheTokensActions(t *testing.T) {
	f := newFixture(t)
	var ev struct {
		ID      string   `json:"id"`
		Actions []string `json:"actions"`
	}
	resp, _ := f.do("POST", "/api/v1/events", f.admin, map[string]any{"category": "dispute", "description": "动作", "grid": "511083001001001"}, &ev)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("report: %d", resp.StatusCode)
	}
	get := func(token string) []string {
		var out struct {
			Actions []string `json:"actions"`
		}
		if resp, _ := f.do("GET", "/api/v1/events/"+ev.ID, token, nil, &out); resp.StatusCode != http.StatusOK {
			t.Fatalf("get: %d", resp.StatusCode)
		}
		return out.Actions
	}
	if got := get(f.admin); !slices.Equal(got, []string{"accept", "reject", "extend", "suspend", "supervise", "escalate", "merge", "self_resolve", "comment"}) {
		t.Fatalf("center_admin on a reported event: %v", got)
	}
	if got := get(f.audit); len(got) != 0 {
		t.Fatalf("audit_admin may take no action: %v", got)
	}
	for _, a := range []map[string]any{{"action": "accept"}, {"action": "dispatch", "handler": "综治办"}} {
		var after struct {
			Status  string   `json:"status"`
			Actions []string `json:"actions"`
		}
		if resp, _ := f.do("POST", "/api/v1/events/"+ev.ID+"/actions", f.admin, a, &after); resp.StatusCode != http.StatusOK {
			t.Fatalf("%v: %d", a, resp.StatusCode)
		}
		if a["action"] == "dispatch" && (after.Status != "dispatched" || slices.Contains(after.Actions, "accept") || !slices.Contains(after.Actions, "sign")) {
			t.Fatalf("after dispatch: %s %v", after.Status, after.Actions)
		}
	}
	// The department's handler may act; one of another department may not.
	if got := get(f.deptToken("综治办")); !slices.Equal(got, []string{"sign", "return", "comment"}) {
		t.Fatalf("department_handler on an event dispatched to its department: %v", got)
	}
	if got := get(f.deptToken("城管局")); len(got) != 0 {
		t.Fatalf("department_handler of another department: %v", got)
	}
}
