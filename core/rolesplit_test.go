package core

import (
	"errors"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// A group made before 三员分立 holds center_admin and auditor tokens. The
// split renames the auditors, issues the first security and system
// administrators once, and is refused the second time with nothing changed.
func TestSplitRolesOnce(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	// An auditor token as an older version wrote it (its log entry still applies).
	old := model.Token{ID: "tok-legacy", Name: "审计", Role: access.LegacyAuditor, Scope: "511083", Hash: state.HashSecret("fq_legacy_auditor_secret_0001")}
	if _, err := e.apply(e.ctx, "token.create", "511083", old); err != nil {
		t.Fatalf("an old auditor token must still apply: %v", err)
	}
	if _, _, err := e.Tokens.Create(e.ctx, "x", access.LegacyAuditor, "511083", ""); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("auditor issued anew: %v", err)
	}
	out, err := e.Tokens.SplitRoles(e.ctx, "511083")
	if err != nil {
		t.Fatal(err)
	}
	if out.Renamed != 1 || len(out.Issued) != 2 || out.Issued[0].Token.Role != access.SecurityAdmin || out.Issued[1].Token.Role != access.SystemAdmin {
		t.Fatalf("split: %+v", out)
	}
	for _, is := range out.Issued {
		tk, err := e.Tokens.Authenticate(is.Secret)
		if life := time.Duration(0); err == nil && tk.ExpiresAt != nil {
			life = tk.ExpiresAt.Sub(tk.CreatedAt)
			if life > DefaultMaxAdminTTL || life < DefaultMaxAdminTTL-time.Minute {
				t.Fatalf("issued %s lives %s", is.Token.Role, life)
			}
		}
		if err != nil || tk.ExpiresAt == nil {
			t.Fatalf("issued %s: %+v %v", is.Token.Role, tk, err)
		}
	}
	tk, err := e.Tokens.Authenticate("fq_legacy_auditor_secret_0001")
	if err != nil || tk.Role != access.AuditAdmin {
		t.Fatalf("the auditor after the split: %+v %v", tk, err)
	}
	before := mustDigest(t, e.Engine())
	if _, err := e.Tokens.SplitRoles(e.ctx, "511083"); !errors.Is(err, state.ErrRolesSplit) {
		t.Fatalf("second split: %v", err)
	}
	if mustDigest(t, e.Engine()) != before {
		t.Fatal("a refused split changed the state")
	}
}
