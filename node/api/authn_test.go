package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// auditKinds returns the kinds of the audit events recorded after seq.
func (f *fixture) auditEvents(after uint64) []state.AuditEvent {
	f.t.Helper()
	recs, err := f.b.s.Engine().AuditPage(after, 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []state.AuditEvent
	for _, r := range recs {
		var c struct {
			Type    string           `json:"type"`
			Payload state.AuditEvent `json:"payload"`
		}
		if err := json.Unmarshal(r.Command, &c); err == nil && c.Type == "audit.event" {
			out = append(out, c.Payload)
		}
	}
	return out
}

func (f *fixture) auditHead() uint64 {
	rep, err := f.b.s.Engine().VerifyAudit()
	if err != nil {
		f.t.Fatal(err)
	}
	return rep.Records
}

// An administrator's token needs its TOTP code: without one, with a
// malformed, wrong or superseded one it is refused with a typed problem,
// audited with the token's id (never its secret), and nothing else changes.
func TestAdministratorsNeedASecondFactor(t *testing.T) {
	f := newFixture(t)
	send := func(code string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/tokens", nil)
		req.Header.Set("Authorization", "Bearer "+f.sec)
		if code != "" {
			req.Header.Set(OTPHeader, code)
		}
		return decodeResponse(t, req)
	}
	key := f.otp[f.sec]
	at := func(d time.Duration) string {
		code, _ := totp.GenerateCode(key, time.Now().Add(d))
		return code
	}
	wrong := "000000"
	if wrong == at(0) || wrong == at(-30*time.Second) || wrong == at(30*time.Second) {
		wrong = "999999"
	}
	head, before := f.auditHead(), f.digest()
	for _, c := range []struct{ code, rule string }{
		{"", "required"}, {"12345", "invalid"}, {"12345x", "invalid"}, {strings.Repeat("1", 4096), "invalid"}, {wrong, "invalid"},
	} {
		resp, m := send(c.code)
		expectProblem(t, "otp "+c.code[:min(len(c.code), 8)], resp, m, 401, "otp")
		if m["rule"] != c.rule {
			t.Errorf("otp %q: rule %v, want %s", c.code[:min(len(c.code), 8)], m["rule"], c.rule)
		}
	}
	if f.digest() != before {
		t.Fatal("refused second factors changed the state")
	}
	evs := f.auditEvents(head)
	secTok, _ := f.b.s.Tokens.Authenticate(f.sec)
	if len(evs) != 5 {
		t.Fatalf("%d audit events for 5 refusals: %+v", len(evs), evs)
	}
	for _, ev := range evs {
		if ev.Kind != state.AuditAuthFailed || ev.Token != secTok.ID || ev.Role != access.SecurityAdmin || ev.Route != "GET /api/v1/tokens" || ev.Remote == "" {
			t.Errorf("audit event %+v", ev)
		}
	}
	if resp, m := send(at(0)); resp.StatusCode != 200 {
		t.Fatalf("the right code: %d %v", resp.StatusCode, m)
	}
	if resp, m := send(at(0)); resp.StatusCode != 200 {
		t.Fatalf("the same code again, within its step: %d %v", resp.StatusCode, m)
	}
	resp, m := send(at(-30 * time.Second))
	expectProblem(t, "a code older than one accepted", resp, m, 401, "otp")
	// Development mode asks none; other roles never need one.
	f.api.Dev = true
	if resp, m := send(""); resp.StatusCode != 200 {
		t.Fatalf("dev mode: %d %v", resp.StatusCode, m)
	}
	f.api.Dev = false
	if resp, m := f.do("GET", "/api/v1/events", f.town, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("a township operator: %d %v", resp.StatusCode, m)
	}
}

// Repeated failed authentications from one address lock it out: then even
// a good token is answered 429 with Retry-After, without a lookup, and the
// lockout is audited and counted.
func TestFailedAuthenticationsLockTheAddressOut(t *testing.T) {
	f := newFixture(t)
	f.api.lock.max = 3
	var outcomes []string
	f.api.OnAuth = func(o string) { outcomes = append(outcomes, o) }
	head, before := f.auditHead(), f.digest()
	for i := range 3 {
		resp, m := f.do("GET", "/api/v1/events", "fq_guess_number_"+strings.Repeat("x", i+16), nil, nil)
		expectProblem(t, "a guess", resp, m, 401, "authorization")
	}
	resp, m := f.do("GET", "/api/v1/events", f.town, nil, nil)
	expectProblem(t, "a good token while locked out", resp, m, 429, "authorization")
	if resp.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	if strings.Join(outcomes, ",") != "failed,failed,failed,locked_out,while_locked" {
		t.Fatalf("outcomes %v", outcomes)
	}
	var kinds []string
	for _, ev := range f.auditEvents(head) {
		kinds = append(kinds, ev.Kind)
		if strings.Contains(ev.Detail+ev.Token, "fq_guess") {
			t.Fatalf("an audit event holds the guessed secret: %+v", ev)
		}
	}
	if strings.Join(kinds, ",") != "auth_failed,auth_failed,auth_failed,locked_out" {
		t.Fatalf("audit events %v", kinds)
	}
	if f.digest() != before {
		t.Fatal("refusals changed the state")
	}
	// The lockout ends.
	f.api.lock.now = func() time.Time { return time.Now().Add(LockoutFor + time.Second) }
	if resp, m := f.do("GET", "/api/v1/events", f.town, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("after the lockout: %d %v", resp.StatusCode, m)
	}
}

// Tokens are stored as an HMAC of the secret under a key of the key file:
// the state holds no bare hash a guess could be tested against, a token
// stored before that moves to the pepper on first use, and readers of the
// audit never see a hash or a sealed TOTP secret.
func TestTokensArePepperedAndRedacted(t *testing.T) {
	f := newFixture(t)
	ctx := core.WithActor(context.Background(), "test")
	tk, err := f.b.s.Tokens.Authenticate(f.town)
	if err != nil {
		t.Fatal(err)
	}
	bare := sha256.Sum256([]byte(f.town))
	if tk.Hash == hex.EncodeToString(bare[:]) || tk.Hash == "" {
		t.Fatalf("the token is stored under its bare SHA-256: %s", tk.Hash)
	}
	// A token as an older version stored it.
	legacy := "fq_legacy_grid_worker_secret_0001"
	sum := sha256.Sum256([]byte(legacy))
	payload, _ := json.Marshal(model.Token{ID: "tok-legacy0001", Name: "旧", Role: access.GridWorker, Scope: "511083001", Hash: hex.EncodeToString(sum[:])})
	raw, _ := (&state.Command{Type: "token.create", Version: 1, ID: "legacy-2", At: time.Now().UTC(), Actor: "older version", Payload: payload}).Encode()
	if res, err := f.prop.Propose(ctx, [][]byte{raw}); err != nil || res[0].Err != nil {
		t.Fatalf("legacy token: %v %v", err, res)
	}
	if resp, m := f.do("GET", "/api/v1/events", legacy, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("a legacy token: %d %v", resp.StatusCode, m)
	}
	moved, err := f.b.s.Tokens.Get("tok-legacy0001")
	if err != nil || moved.Hash == hex.EncodeToString(sum[:]) {
		t.Fatalf("the legacy token was not rehashed: %+v %v", moved, err)
	}
	if resp, _ := f.do("GET", "/api/v1/events", legacy, nil, nil); resp.StatusCode != 200 {
		t.Fatal("the rehashed token stopped working")
	}
	// The audit shows token commands without their hashes or TOTP secrets.
	type record struct {
		Seq     uint64          `json:"seq"`
		Command json.RawMessage `json:"cmd"`
	}
	var all []record
	for after := uint64(0); ; {
		var page struct {
			Records []record `json:"records"`
		}
		if resp, m := f.do("GET", fmt.Sprint("/api/v1/audit?limit=1000&after=", after), f.audit, nil, &page); resp.StatusCode != 200 {
			t.Fatalf("audit: %d %v", resp.StatusCode, m)
		}
		if len(page.Records) == 0 {
			break
		}
		all, after = append(all, page.Records...), page.Records[len(page.Records)-1].Seq
	}
	seen := 0
	for _, r := range all {
		s := string(r.Command)
		if !strings.Contains(s, `"token.`) {
			continue
		}
		seen++
		if strings.Contains(s, tk.Hash) || strings.Contains(s, hex.EncodeToString(sum[:])) || strings.Contains(s, moved.Hash) || !strings.Contains(s, "[redacted]") {
			t.Fatalf("a token command shows its hash: %s", s)
		}
		if strings.Contains(s, `"totp_sealed":"`) && !strings.Contains(s, `"totp_sealed":"[redacted]"`) {
			t.Fatalf("a token command shows its sealed TOTP secret: %s", s)
		}
	}
	if seen < 8 {
		t.Fatalf("only %d token commands in the audit", seen)
	}
}
