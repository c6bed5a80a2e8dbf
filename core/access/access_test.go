package access

import (
	"slices"
	"testing"

	"github.com/fengqiao/fengqiao/core/model"
)

// 三员分立: no role holds two of system, tokens and audit, and center_admin
// holds none of them. Only the development root holds everything.
func TestSeparationOfDuties(t *testing.T) {
	duties := []Perm{System, Tokens, Audit}
	for _, role := range Roles {
		n := 0
		for _, p := range duties {
			if Allows(role, p) {
				n++
			}
		}
		if role == DevRoot {
			if n != len(duties) {
				t.Errorf("dev_root holds %d of the three duties", n)
			}
			continue
		}
		if n > 1 {
			t.Errorf("%s holds %d of the three administrative duties", role, n)
		}
	}
	for _, p := range duties {
		if Allows(CenterAdmin, p) {
			t.Errorf("center_admin holds %s", p)
		}
	}
	if Allows(AuditAdmin, Report) || Allows(AuditAdmin, Act) || Allows(AuditAdmin, ManagePlaces) || Allows(AuditAdmin, Reveal) {
		t.Error("audit_admin may change something")
	}
	if slices.Contains(Assignable, DevRoot) || Known(LegacyAuditor) {
		t.Error("dev_root is assignable or auditor still known")
	}
}

func TestUnderAndSeesSpecial(t *testing.T) {
	for _, c := range []struct {
		code, scope string
		want        bool
	}{
		{"500110001", "500000", true}, {"510107", "500000", false}, {"511083001001", "511083001", true},
		{"511083002", "511083001", false}, {"511083", "511083001", false}, {"500110001001001", "500110001001001", true},
	} {
		if got := Under(c.code, c.scope); got != c.want {
			t.Errorf("Under(%s, %s) = %v", c.code, c.scope, got)
		}
	}
	grid := "511083001001001"
	for _, c := range []struct {
		role, scope string
		want        bool
	}{
		{CenterAdmin, "511083", true}, {CommunityOperator, "511083001001", true}, {GridWorker, grid, true},
		{GridWorker, "511083001001", false}, {GridWorker, "511083001001002", false},
		{DepartmentHandler, "511083", false}, {AuditAdmin, "511083", false}, {SystemAdmin, "511083", false},
	} {
		if got := SeesSpecial(c.role, c.scope, grid); got != c.want {
			t.Errorf("SeesSpecial(%s, %s) = %v", c.role, c.scope, got)
		}
	}
}

// The actions a role may take in a state are the transition table's, less
// the role's limits; a role without Act takes none.
func TestEventActions(t *testing.T) {
	for _, c := range []struct {
		role string
		s    model.Status
		want []string
	}{
		{CenterAdmin, model.StatusReported, []string{"accept", "reject", "extend", "suspend", "supervise", "escalate", "merge", "self_resolve", "comment"}},
		{DepartmentHandler, model.StatusDispatched, []string{"sign", "return", "comment"}},
		{DepartmentHandler, model.StatusInProgress, []string{"return", "resolve", "comment"}},
		{GridWorker, model.StatusReported, []string{"self_resolve", "comment"}},
		{GridWorker, model.StatusClosed, []string{"comment"}},
		{CenterAdmin, model.StatusMerged, []string{"comment"}},
		{AuditAdmin, model.StatusReported, []string{}},
		{SystemAdmin, model.StatusInProgress, []string{}},
	} {
		if got := EventActions(c.role, c.s); !slices.Equal(got, c.want) {
			t.Errorf("EventActions(%s, %s) = %v, want %v", c.role, c.s, got, c.want)
		}
	}
}
