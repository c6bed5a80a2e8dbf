package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// 三员分立 over HTTP: a group made before the split has an auditor token
// that stops working, with a message saying what to do, until a
// center_admin splits the roles once; a second split is refused and
// changes nothing. The development root opens nothing outside dev mode.
func TestRolesSplitOverHTTP(t *testing.T) {
	f := newFixture(t)
	ctx := core.WithActor(context.Background(), "test")
	legacy := "fq_legacy_auditor_secret_0001"
	if _, err := f.b.s.Tokens.CreateWith(ctx, core.TokenSpec{Name: "审计", Role: access.DevRoot, Scope: "511083", Secret: "fq_dev_root_secret_00000001"}); err != nil {
		t.Fatal(err)
	}
	// The auditor token an older version issued, as its log entry holds it.
	sum := sha256.Sum256([]byte(legacy))
	payload, _ := json.Marshal(model.Token{ID: "tok-legacy", Name: "审计", Role: access.LegacyAuditor, Scope: "511083", Hash: hex.EncodeToString(sum[:])})
	cmd := state.Command{Type: "token.create", Version: 1, ID: "legacy-1", At: time.Now().UTC(), Actor: "older version", Payload: payload}
	raw, err := cmd.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if res, err := f.prop.Propose(ctx, [][]byte{raw}); err != nil || res[0].Err != nil {
		t.Fatalf("the legacy token: %v %v", err, res)
	}
	resp, m := f.do("GET", "/api/v1/audit/verify", legacy, nil, nil)
	expectProblem(t, "a legacy auditor", resp, m, 403, "role")
	if m["rule"] != "split" {
		t.Fatalf("the refusal does not say the roles were split: %v", m)
	}
	resp, m = f.do("GET", "/api/v1/events", "fq_dev_root_secret_00000001", nil, nil)
	expectProblem(t, "dev_root outside dev mode", resp, m, 401, "authorization")

	resp, m = f.do("POST", "/api/v1/tokens/split-roles", f.town, "{}", nil)
	expectProblem(t, "a township operator splits", resp, m, 403, "role")
	var out struct {
		Renamed int `json:"renamed"`
		Issued  []struct {
			Token  tokenView `json:"token"`
			Secret string    `json:"secret"`
			TOTP   string    `json:"totp_secret"`
		} `json:"issued"`
	}
	if resp, m := f.do("POST", "/api/v1/tokens/split-roles", f.admin, "{}", &out); resp.StatusCode != 200 || out.Renamed != 1 || len(out.Issued) != 2 {
		t.Fatalf("split: %d %v", resp.StatusCode, m)
	}
	// The former auditor is an audit_admin now, but was never enrolled in
	// a second factor: it must be issued anew, and says so.
	resp, m = f.do("GET", "/api/v1/audit/verify", legacy, nil, nil)
	expectProblem(t, "the former auditor after the split", resp, m, 401, "otp")
	if m["rule"] != "not_enrolled" {
		t.Fatalf("the refusal does not say why: %v", m)
	}
	if tk, err := f.b.s.Tokens.Authenticate(legacy); err != nil || tk.Role != access.AuditAdmin {
		t.Fatalf("the former auditor's role: %+v %v", tk, err)
	}
	for _, is := range out.Issued {
		if is.TOTP == "" {
			t.Fatalf("%s issued without a second factor", is.Token.Role)
		}
		f.remember(is.Secret, is.TOTP)
	}
	if resp, m := f.do("GET", "/api/v1/tokens", out.Issued[0].Secret, nil, nil); resp.StatusCode != 200 || out.Issued[0].Token.Role != access.SecurityAdmin {
		t.Fatalf("the issued security_admin: %d %v", resp.StatusCode, m)
	}
	before := f.digest()
	resp, m = f.do("POST", "/api/v1/tokens/split-roles", f.admin, "{}", nil)
	expectProblem(t, "a second split", resp, m, 409, "roles")
	if f.digest() != before {
		t.Fatal("a refused split changed the state")
	}
}
