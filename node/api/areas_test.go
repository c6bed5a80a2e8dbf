package api

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/idcard"
	"github.com/fengqiao/fengqiao/core/model"
)

// validID makes a synthetic ID number for 隆昌市 with serial n (0..999).
func validID(n int) string {
	first := fmt.Sprintf("51108319800101%03d", n)
	return first + string(idcard.CheckDigit(first))
}

func TestPeopleOverHTTP(t *testing.T) {
	f := newFixture(t)
	idn := validID(3)
	var p model.Person
	resp, m := f.do("POST", "/api/v1/people", f.town, map[string]any{"name": "刘晓梅", "id_number": idn, "kind": "registered", "jurisdiction": "511083001001"}, &p)
	if resp.StatusCode != 201 || p.IDMasked != idcard.Mask(idn) || p.NameMasked != "刘**" {
		t.Fatalf("add: %d %v %+v", resp.StatusCode, m, p)
	}
	// Masked by default; nothing sensitive in the body.
	resp, m = f.do("GET", "/api/v1/people/"+p.ID, f.town, nil, nil)
	if resp.StatusCode != 200 || strings.Contains(mustJSON(m), idn) || strings.Contains(mustJSON(m), "刘晓梅") {
		t.Fatalf("masked get leaks: %v", m)
	}
	before, _ := f.b.s.Engine().VerifyAudit()
	var rev struct {
		Revealed model.Revealed `json:"revealed"`
	}
	if resp, _ := f.do("GET", "/api/v1/people/"+p.ID+"?reveal=true&basis=visit&purpose=核查走访", f.town, nil, &rev); resp.StatusCode != 200 || rev.Revealed.IDNumber != idn {
		t.Fatalf("reveal: %d %+v", resp.StatusCode, rev)
	}
	after, _ := f.b.s.Engine().VerifyAudit()
	if after.Records != before.Records+1 {
		t.Fatal("a reveal was not audited")
	}
	for _, bad := range []struct{ query, field string }{
		{"reveal=true&basis=visit", "purpose"},
		{"reveal=true&purpose=核查", "basis"},
		{"reveal=true&basis=curiosity&purpose=核查", "basis"},
		{"reveal=true&basis=other&purpose=" + strings.Repeat("查", model.MaxPurpose+1), "purpose"},
	} {
		before := f.digest()
		resp, m = f.do("GET", "/api/v1/people/"+p.ID+"?"+bad.query, f.town, nil, nil)
		expectProblem(t, "reveal "+bad.query[:min(len(bad.query), 40)], resp, m, 400, bad.field)
		if f.digest() != before {
			t.Fatalf("a refused reveal (%s) changed the state", bad.field)
		}
	}
	resp, m = f.do("GET", "/api/v1/people/"+p.ID+"?reveal=true&purpose=x", f.audit, nil, nil)
	expectProblem(t, "auditor reveals", resp, m, 403, "reveal")
	// Special-population record and a visit.
	risk := 2
	if resp, m := f.do("POST", "/api/v1/people/"+p.ID+"/special", f.town, map[string]any{"category": "severe_mental", "level": 2,
		"since": "2025-01-01T00:00:00Z", "details": map[string]any{"diagnosis": "精神分裂症", "risk_level": risk, "guardian": "刘建军"}}, nil); resp.StatusCode != 200 {
		t.Fatalf("special: %d %v", resp.StatusCode, m)
	}
	resp, m = f.do("POST", "/api/v1/people/"+p.ID+"/special", f.town, map[string]any{"category": "severe_mental", "level": 2,
		"since": "2025-01-01T00:00:00Z", "details": map[string]any{"guardian": "x"}}, nil)
	expectProblem(t, "special without risk level", resp, m, 400, "details.risk_level")
	if resp, m := f.do("POST", "/api/v1/people/"+p.ID+"/visits", f.town, map[string]any{"at": "2026-11-01T02:00:00Z", "visitor": "网格员", "method": "home", "found": true, "note": "情况稳定"}, nil); resp.StatusCode != 201 {
		t.Fatalf("visit: %d %v", resp.StatusCode, m)
	}
	var visits struct {
		Visits []model.Visit `json:"visits"`
	}
	if resp, _ := f.do("GET", "/api/v1/people/"+p.ID+"/visits", f.town, nil, &visits); resp.StatusCode != 200 || len(visits.Visits) != 1 {
		t.Fatalf("visits: %d %+v", resp.StatusCode, visits)
	}
	// Scope and bad input.
	var other model.Person
	f.do("POST", "/api/v1/people", f.admin, map[string]any{"name": "王五", "id_number": validID(4), "kind": "floating", "jurisdiction": "511083002001"}, &other)
	resp, m = f.do("GET", "/api/v1/people/"+other.ID, f.town, nil, nil)
	expectProblem(t, "other township's person", resp, m, 404, "id")
	digest := f.digest()
	resp, m = f.do("POST", "/api/v1/people", f.town, map[string]any{"name": "x", "id_number": idn[:17] + "0", "kind": "registered", "jurisdiction": "511083001001"}, nil)
	if idn[17] == '0' {
		resp, m = f.do("POST", "/api/v1/people", f.town, map[string]any{"name": "x", "id_number": idn[:17] + "1", "kind": "registered", "jurisdiction": "511083001001"}, nil)
	}
	expectProblem(t, "bad check digit", resp, m, 400, "id_number")
	resp, m = f.do("POST", "/api/v1/people", f.town, map[string]any{"name": "x", "id_number": validID(5), "kind": "registered", "jurisdiction": "511083002001"}, nil)
	expectProblem(t, "person in another township", resp, m, 404, "jurisdiction")
	if f.digest() != digest {
		t.Fatal("refused people requests changed the state")
	}
	var list struct {
		People []model.Person `json:"people"`
	}
	if resp, _ := f.do("GET", "/api/v1/people", f.town, nil, &list); resp.StatusCode != 200 || len(list.People) != 1 {
		t.Fatalf("list: %d %d", resp.StatusCode, len(list.People))
	}
	if strings.Contains(f.logs.String(), idn) || strings.Contains(f.logs.String(), "刘晓梅") || strings.Contains(f.logs.String(), "精神分裂症") {
		t.Fatal("the log holds sensitive fields")
	}
}

func TestPartyAndTokensOverHTTP(t *testing.T) {
	f := newFixture(t)
	for _, o := range []map[string]any{
		{"id": "c1", "name": "古湖街道党工委", "kind": "committee", "jurisdiction": "511083001"},
		{"id": "b1", "name": "大东街社区党支部", "kind": "branch", "parent": "c1", "jurisdiction": "511083001001", "grids": []string{"511083001001001"}},
	} {
		if resp, m := f.do("POST", "/api/v1/party/orgs", f.town, o, nil); resp.StatusCode != 200 {
			t.Fatalf("org: %d %v", resp.StatusCode, m)
		}
	}
	resp, m := f.do("POST", "/api/v1/party/orgs", f.town, map[string]any{"id": "b2", "name": "x", "kind": "branch", "parent": "c1", "jurisdiction": "511083002001"}, nil)
	expectProblem(t, "org in another township", resp, m, 404, "jurisdiction")
	if resp, m := f.do("POST", "/api/v1/party/members", f.town, map[string]any{"id": "m1", "name": "党员甲", "org": "b1", "status": "full"}, nil); resp.StatusCode != 200 {
		t.Fatalf("member: %d %v", resp.StatusCode, m)
	}
	if resp, m := f.do("POST", "/api/v1/party/activities", f.town, map[string]any{"org": "b1", "kind": "theme_day", "date": "2026-11-20", "topic": "学习", "attendees": []string{"m1"}}, nil); resp.StatusCode != 201 {
		t.Fatalf("activity: %d %v", resp.StatusCode, m)
	}
	var cov struct {
		Grids     int           `json:"grids"`
		Uncovered []string      `json:"uncovered_grids"`
		Behind    []model.Lapse `json:"behind_schedule"`
	}
	if resp, _ := f.do("GET", "/api/v1/party/coverage?jurisdiction=511083001001&as_of=2026-11-24", f.town, nil, &cov); resp.StatusCode != 200 || cov.Grids != 4 || len(cov.Uncovered) != 3 {
		t.Fatalf("coverage: %d %+v", resp.StatusCode, cov)
	}
	resp, m = f.do("GET", "/api/v1/party/coverage?as_of=24/11/2026", f.town, nil, nil)
	expectProblem(t, "bad as_of", resp, m, 400, "as_of")
	// Tokens: an admin issues a narrower token; nobody widens their own scope.
	var made struct {
		Token  tokenView `json:"token"`
		Secret string    `json:"secret"`
	}
	if resp, m := f.do("POST", "/api/v1/tokens", f.sec, map[string]any{"name": "网格员张", "role": "grid_worker", "scope": "511083001001"}, &made); resp.StatusCode != 201 || made.Secret == "" {
		t.Fatalf("create token: %d %v", resp.StatusCode, m)
	}
	if resp, _ := f.do("GET", "/api/v1/events", made.Secret, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("new token does not work: %d", resp.StatusCode)
	}
	resp, m = f.do("POST", "/api/v1/tokens", f.sec, map[string]any{"name": "x", "role": "center_admin", "scope": "510000"}, nil)
	expectProblem(t, "widening scope", resp, m, 404, "scope")
	resp, m = f.do("POST", "/api/v1/tokens", f.town, map[string]any{"name": "x", "role": "grid_worker", "scope": "511083001"}, nil)
	expectProblem(t, "township issues tokens", resp, m, 403, "role")
	var list struct {
		Tokens []map[string]any `json:"tokens"`
	}
	f.do("GET", "/api/v1/tokens", f.sec, nil, &list)
	if len(list.Tokens) != 7 || strings.Contains(mustJSON(list), "hash") {
		t.Fatalf("token list: %+v", list)
	}
	if resp, _ := f.do("DELETE", "/api/v1/tokens/"+made.Token.ID, f.sec, nil, nil); resp.StatusCode != 204 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	resp, m = f.do("GET", "/api/v1/events", made.Secret, nil, nil)
	expectProblem(t, "revoked token", resp, m, 401, "authorization")
}

// A token issued with a ttl carries its expiry, works until then and is
// refused after with a problem that says it expired; a bad ttl is a 400
// naming ttl and issues nothing.
func TestExpiringTokensOverHTTP(t *testing.T) {
	f := newFixture(t)
	var made struct {
		Token  tokenView `json:"token"`
		Secret string    `json:"secret"`
	}
	if resp, m := f.do("POST", "/api/v1/tokens", f.sec, map[string]any{"name": "临时", "role": "grid_worker", "scope": "511083001001", "ttl": "30d"}, &made); resp.StatusCode != 201 {
		t.Fatalf("create: %d %v", resp.StatusCode, m)
	}
	if made.Token.ExpiresAt == nil || time.Until(*made.Token.ExpiresAt) < 29*24*time.Hour || time.Until(*made.Token.ExpiresAt) > 30*24*time.Hour {
		t.Fatalf("expires_at %v, want 30 days on", made.Token.ExpiresAt)
	}
	if resp, _ := f.do("GET", "/api/v1/events", made.Secret, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("a live expiring token: %d", resp.StatusCode)
	}
	var list struct {
		Tokens []tokenView `json:"tokens"`
	}
	f.do("GET", "/api/v1/tokens", f.sec, nil, &list)
	// The expiring grid worker's token shows its expiry; so do the
	// administrators', which always expire (at most 90 days by default).
	for _, tk := range list.Tokens {
		switch {
		case tk.ID == made.Token.ID && (tk.ExpiresAt == nil || tk.ExpiresAt.Sub(time.Now()) > 31*24*time.Hour):
			t.Errorf("30d token lists expiry %v", tk.ExpiresAt)
		case access.Admin(tk.Role) && (tk.ExpiresAt == nil || tk.ExpiresAt.Sub(time.Now()) > core.DefaultMaxAdminTTL):
			t.Errorf("%s token lists expiry %v", tk.Role, tk.ExpiresAt)
		case !access.Admin(tk.Role) && tk.ID != made.Token.ID && tk.ExpiresAt != nil:
			t.Errorf("%s token expires though none was asked for", tk.Role)
		}
	}
	// An administrator's token cannot outlive the maximum.
	before := f.digest()
	resp, m := f.do("POST", "/api/v1/tokens", f.sec, map[string]any{"name": "x", "role": "system_admin", "scope": "511083", "ttl": "91d"}, nil)
	expectProblem(t, "admin ttl past the maximum", resp, m, 400, "ttl")
	resp, m = f.do("POST", "/api/v1/tokens", f.sec, map[string]any{"name": "x", "role": "dev_root", "scope": "511083"}, nil)
	expectProblem(t, "dev_root through the API", resp, m, 400, "role")
	if f.digest() != before {
		t.Fatal("refused tokens changed the state")
	}

	for _, ttl := range []string{"soon", "0s", "-1h", "0d", "x d", "2000d", "213504d"} {
		resp, m := f.do("POST", "/api/v1/tokens", f.sec, map[string]any{"name": "x", "role": "grid_worker", "scope": "511083001001", "ttl": ttl}, nil)
		expectProblem(t, "ttl "+ttl, resp, m, 400, "ttl")
	}
	if f.digest() != before {
		t.Fatal("a refused ttl changed the state")
	}

	f.skew.Store(int64(30 * 24 * time.Hour))
	resp, m = f.do("GET", "/api/v1/events", made.Secret, nil, nil)
	expectProblem(t, "expired token", resp, m, 401, "authorization")
	if d, _ := m["detail"].(string); !strings.Contains(d, "expired") {
		t.Fatalf("the problem does not say the token expired: %v", m)
	}
	if resp, _ := f.do("GET", "/api/v1/events", f.town, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("a token without a ttl after the clock moved: %d", resp.StatusCode)
	}
}

// Any ttl text either parses to a positive lifetime or is refused naming
// ttl; none panics.
func FuzzParseTTL(f *testing.F) {
	for _, s := range []string{"720h", "90d", "0d", "-1d", "1.5h", "d", "9999999999999999999d", "1h30m", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseTTL(s)
		if err != nil {
			if errs.Field(err) != "ttl" {
				t.Fatalf("%q: error %v does not name ttl", s, err)
			}
			return
		}
		// Days are exact and never wrap into some other lifetime.
		if days, ok := strings.CutSuffix(s, "d"); ok {
			n, _ := strconv.Atoi(days)
			if d <= 0 || d%(24*time.Hour) != 0 || int(d/(24*time.Hour)) != n {
				t.Fatalf("%q parsed to %v", s, d)
			}
		}
	})
}
