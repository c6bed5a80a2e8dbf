package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/seal"
	"github.com/fengqiao/fengqiao/core/state"
	"github.com/fengqiao/fengqiao/federation/exchange"
	"github.com/fengqiao/fengqiao/federation/membership"
)

type backend struct {
	s         *core.Store
	notLeader atomic.Bool
	members   []membership.Member
	stats     []exchange.LinkStats
}

func (b *backend) Store() *core.Store { return b.s }
func (b *backend) Members() ([]membership.Member, error) {
	if b.members == nil {
		return nil, ErrNoPool
	}
	return b.members, nil
}
func (b *backend) LinkStats() []exchange.LinkStats { return b.stats }
func (b *backend) Ready() error                    { return nil }
func (b *backend) Jurisdiction() string            { return "511083" }
func (b *backend) Self() string                    { return "only" }
func (b *backend) Peers() ([]Peer, error) {
	return []Peer{{ID: "only", Address: "127.0.0.1:7001", Voter: true, Leader: true}}, nil
}
func (b *backend) RemovePeer(id string) error { return errs.NotFound("id", "no peer %q", id) }
func (b *backend) AddPeer(id, addr string, voter bool) error {
	return errs.Invalid("address", "format", "not host:port")
}
func (b *backend) TransferLeader(id string, force bool) error {
	return errs.Invalid("id", "alone", "no other voter")
}
func (b *backend) Backup(w io.Writer) (int64, error) { return b.s.Engine().Snapshot(w) }
func (b *backend) Restore(r io.Reader, force bool) (core.BackupCheck, error) {
	f, err := os.CreateTemp("", "restore-*.db")
	if err != nil {
		return core.BackupCheck{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := io.Copy(f, r); err != nil {
		return core.BackupCheck{}, err
	}
	bc, err := b.s.CheckBackup(f.Name(), force)
	if err != nil {
		return bc, err
	}
	f.Seek(0, io.SeekStart)
	return bc, b.s.Engine().Restore(f)
}
func (b *backend) ReadBarrier() error {
	if b.notLeader.Load() {
		return NotLeader("127.0.0.1:7002")
	}
	return nil
}

type fixture struct {
	t      *testing.T
	b      *backend
	srv    *httptest.Server
	logs   *bytes.Buffer
	admin  string         // center_admin for 511083
	sys    string         // system_admin for 511083
	sec    string         // security_admin for 511083
	town   string         // township_operator for 511083001
	audit  string         // audit_admin for 511083
	handle string         // department_handler for 511083
	skew   atomic.Int64   // nanoseconds the store's clock runs ahead of time.Now
	prop   state.Proposer // the store's, for commands only older versions made
	api    *Server
	otpMu  sync.Mutex
	otp    map[string]string // token secret → TOTP secret, for administrators
	matrix map[string]string // role@scope → token secret (matrix_test.go)
}

func newFixture(t *testing.T) *fixture {
	kr, _ := seal.NewRandomKeyring(seal.AES256GCM)
	e, err := state.OpenEngine(t.TempDir(), state.EngineOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	return newFixtureOn(t, e, kr)
}

// newFixtureOn serves a store over e that seals with kr.
func newFixtureOn(t *testing.T, e *state.Engine, kr *seal.Keyring) *fixture {
	f := &fixture{t: t, logs: &bytes.Buffer{}}
	f.prop = state.NewLocal(e)
	// As a node outside development mode: administrators enrol in TOTP.
	s := core.New(e, f.prop, core.Options{Keyring: kr, SecondFactor: true, Clock: func() time.Time { return time.Now().Add(time.Duration(f.skew.Load())) }})
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	if _, err := s.Jurisdictions.Get("511083"); err != nil { // else loaded before
		if _, err := s.Jurisdictions.LoadCounty(ctx, "511083", 2); err != nil {
			t.Fatal(err)
		}
	}
	f.b = &backend{s: s}
	f.otp = map[string]string{}
	mk := func(role, scope string) string { return f.issue(role, scope) }
	f.admin, f.town, f.audit, f.handle = mk(access.CenterAdmin, "511083"), mk(access.TownshipOperator, "511083001"),
		mk(access.AuditAdmin, "511083"), mk(access.DepartmentHandler, "511083")
	f.sys, f.sec = mk(access.SystemAdmin, "511083"), mk(access.SecurityAdmin, "511083")
	f.api = New(f.b, slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	f.api.lock.max = 1000 // tests refuse many credentials from one address; lockout_test.go tests the limit
	f.srv = httptest.NewServer(f.api)
	t.Cleanup(f.srv.Close)
	return f
}

// do sends a request and decodes the JSON answer into out (if not nil).
func (f *fixture) do(method, path, token string, body any, out any) (*http.Response, map[string]any) {
	f.t.Helper()
	resp := f.raw(method, path, token, body)
	defer resp.Body.Close()
	raw := readBody(resp)
	var m map[string]any
	json.Unmarshal(raw, &m)
	// A token issued through the API: its TOTP enrollment is in the answer.
	if secret, ok := m["secret"].(string); ok {
		if key, ok := m["totp_secret"].(string); ok {
			f.remember(secret, key)
		}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			f.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return resp, m
}

// readBody reads an answer whole, or a never-ending event stream's first
// event.
func readBody(resp *http.Response) []byte {
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		raw, _ := bufio.NewReader(resp.Body).ReadBytes('}')
		return raw
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	return raw
}

// issue makes a token of role scoped to scope, enrolled in TOTP when it is
// an administrator's, and returns its secret.
func (f *fixture) issue(role, scope string) string {
	f.t.Helper()
	is, err := f.b.s.Tokens.CreateWith(core.WithActor(context.Background(), "test"), core.TokenSpec{Name: role + "@" + scope, Role: role, Scope: scope})
	if err != nil {
		f.t.Fatal(err)
	}
	if is.TOTP != nil {
		f.otpMu.Lock()
		f.otp[is.Secret] = is.TOTP.Secret
		f.otpMu.Unlock()
	}
	return is.Secret
}

// remember keeps the TOTP secret a token issued through the API came with.
func (f *fixture) remember(secret, totpSecret string) {
	f.otpMu.Lock()
	f.otp[secret] = totpSecret
	f.otpMu.Unlock()
}

// otpFor is the TOTP code an administrator's token sends now ("" for other tokens).
func (f *fixture) otpFor(secret string) string {
	f.otpMu.Lock()
	key := f.otp[secret]
	f.otpMu.Unlock()
	if key == "" {
		return ""
	}
	code, err := totp.GenerateCode(key, time.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	return code
}

// tokenFor returns a county-wide token whose role the route admits.
func (f *fixture) tokenFor(rt route) string {
	switch rt.perm {
	case access.System:
		return f.sys
	case access.Tokens:
		return f.sec
	case access.Audit:
		return f.audit
	case access.IssueStaff:
		return f.town
	}
	return f.admin
}

// raw sends a request and returns the response unread.
// body is a string or bytes sent as they are, nil for none, or anything
// else as JSON; token "" sends no credential.
func (f *fixture) raw(method, path, token string, body any) *http.Response {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
		if code := f.otpFor(token); code != "" {
			req.Header.Set(OTPHeader, code)
		}
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp
}

// digest is the state's content: refusals that are audited (failed
// authentications, denials) leave it as it was; any other change does not.
func (f *fixture) digest() string {
	d, err := f.b.s.Engine().ContentDigest()
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

func expectProblem(t *testing.T, what string, resp *http.Response, m map[string]any, status int, field string) {
	t.Helper()
	if resp.StatusCode != status || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%s: status %d (%s), want %d problem+json; body %v", what, resp.StatusCode, resp.Header.Get("Content-Type"), status, m)
		return
	}
	if field != "" && m["field"] != field {
		t.Errorf("%s: field %v, want %q (%v)", what, m["field"], field, m["detail"])
	}
}

func TestEventFlowOverHTTP(t *testing.T) {
	f := newFixture(t)
	var ev model.Event
	resp, _ := f.do("POST", "/api/v1/events", f.town, map[string]any{"category": "dispute", "description": "楼道堆物引发纠纷",
		"grid": "511083001001001", "source": "resident"}, &ev)
	if resp.StatusCode != 201 || ev.Status != model.StatusReported || resp.Header.Get("Location") != "/api/v1/events/"+ev.ID {
		t.Fatalf("report: %d %+v", resp.StatusCode, ev)
	}
	yes := true
	for _, a := range []model.Action{{Action: "accept"}, {Action: "dispatch", Handler: "司法所"}, {Action: "sign"}, {Action: "resolve"},
		{Action: "verify", Passed: &yes}, {Action: "rate", Satisfaction: "satisfied"}} {
		if resp, m := f.do("POST", "/api/v1/events/"+ev.ID+"/actions", f.town, a, &ev); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", a.Action, resp.StatusCode, m)
		}
	}
	if ev.Status != model.StatusClosed {
		t.Fatalf("status %s", ev.Status)
	}
	resp, m := f.do("POST", "/api/v1/events/"+ev.ID+"/actions", f.town, model.Action{Action: "sign"}, nil)
	expectProblem(t, "illegal action", resp, m, 409, "action")
	var view struct {
		model.Event
		Timeline []model.TimelineEntry `json:"timeline"`
	}
	if resp, _ := f.do("GET", "/api/v1/events/"+ev.ID, f.town, nil, &view); resp.StatusCode != 200 || len(view.Timeline) != 7 {
		t.Fatalf("get: %d, %d entries", resp.StatusCode, len(view.Timeline))
	}
	var stats model.Figures
	if resp, _ := f.do("GET", "/api/v1/stats?jurisdiction=511083001", f.town, nil, &stats); resp.StatusCode != 200 || stats.Reported != 1 || stats.SatisfactionRate != 1 {
		t.Fatalf("stats: %+v", stats)
	}
	var page model.Page
	if resp, _ := f.do("GET", "/api/v1/events?status=closed&limit=10", f.town, nil, &page); resp.StatusCode != 200 || len(page.Events) != 1 {
		t.Fatalf("list: %d %+v", resp.StatusCode, page)
	}
	// A location resolves to its grid.
	var g map[string]any
	f.do("GET", "/api/v1/grids/511083001001002", f.town, nil, &g)
	ring := g["geometry"].(map[string]any)["coordinates"].([]any)[0].([]any)
	p0, p2 := ring[0].([]any), ring[2].([]any)
	lng, lat := (p0[0].(float64)+p2[0].(float64))/2, (p0[1].(float64)+p2[1].(float64))/2
	var located map[string]any
	if resp, _ := f.do("GET", fmt.Sprintf("/api/v1/grids/locate?lng=%f&lat=%f", lng, lat), f.town, nil, &located); resp.StatusCode != 200 || located["id"] != "511083001001002" {
		t.Fatalf("locate: %d %v", resp.StatusCode, located["id"])
	}
	if resp, _ := f.do("POST", "/api/v1/events", f.town, map[string]any{"category": "sanitation", "description": "垃圾", "location": map[string]float64{"lng": lng, "lat": lat}}, &ev); resp.StatusCode != 201 || ev.Grid != "511083001001002" {
		t.Fatalf("report by location: %d %+v", resp.StatusCode, ev)
	}
}

func TestScopeRolesAndAuth(t *testing.T) {
	f := newFixture(t)
	var other model.Event
	f.do("POST", "/api/v1/events", f.admin, map[string]any{"category": "dispute", "description": "x", "grid": "511083002001001"}, &other)
	before := f.digest()
	// No token, a wrong token.
	resp, m := f.do("GET", "/api/v1/events", "", nil, nil)
	expectProblem(t, "no token", resp, m, 401, "authorization")
	resp, m = f.do("GET", "/api/v1/events", "fq_not-a-real-token-at-all", nil, nil)
	expectProblem(t, "bad token", resp, m, 401, "authorization")
	// A township token sees nothing of another township: 404, not 403.
	resp, m = f.do("GET", "/api/v1/events/"+other.ID, f.town, nil, nil)
	expectProblem(t, "other township's event", resp, m, 404, "id")
	resp, m = f.do("POST", "/api/v1/events/"+other.ID+"/actions", f.town, model.Action{Action: "accept"}, nil)
	expectProblem(t, "act on other township's event", resp, m, 404, "id")
	resp, m = f.do("GET", "/api/v1/events?jurisdiction=511083002", f.town, nil, nil)
	expectProblem(t, "list other township", resp, m, 404, "jurisdiction")
	resp, m = f.do("GET", "/api/v1/stats?jurisdiction=511083", f.town, nil, nil)
	expectProblem(t, "stats of the county", resp, m, 404, "jurisdiction")
	resp, m = f.do("POST", "/api/v1/events", f.town, map[string]any{"category": "dispute", "description": "x", "grid": "511083002001001"}, nil)
	expectProblem(t, "report into other township", resp, m, 404, "location")
	resp, m = f.do("GET", "/api/v1/jurisdictions/511083002", f.town, nil, nil)
	expectProblem(t, "other township", resp, m, 404, "code")
	// Roles.
	resp, m = f.do("POST", "/api/v1/events", f.audit, map[string]any{"category": "dispute", "description": "x", "grid": "511083001001001"}, nil)
	expectProblem(t, "auditor reports", resp, m, 403, "role")
	resp, m = f.do("POST", "/api/v1/events/"+other.ID+"/actions", f.handle, model.Action{Action: "accept"}, nil)
	expectProblem(t, "handler accepts", resp, m, 403, "action")
	resp, m = f.do("POST", "/api/v1/grids", f.town, map[string]any{"type": "Feature"}, nil)
	if resp.StatusCode != 400 { // township operators may manage grids; this one is just malformed
		t.Fatalf("township grid create: %d %v", resp.StatusCode, m)
	}
	if f.digest() != before {
		t.Fatal("refused requests changed the state")
	}
	// The admin sees the county.
	if resp, _ := f.do("GET", "/api/v1/events/"+other.ID, f.admin, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("admin read: %d", resp.StatusCode)
	}
}

func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	f := newFixture(t)
	var ev model.Event
	f.do("POST", "/api/v1/events", f.admin, map[string]any{"category": "dispute", "description": "x", "grid": "511083001001001"}, &ev)
	before := f.digest()
	act := "/api/v1/events/" + ev.ID + "/actions"
	cases := []struct {
		what, method, path string
		body               any
		status             int
		field              string
	}{
		{"malformed json", "POST", "/api/v1/events", `{"category":`, 400, "body"},
		{"unknown field", "POST", "/api/v1/events", `{"category":"dispute","description":"x","grid":"511083001001001","colour":"red"}`, 400, "colour"},
		{"wrong type", "POST", "/api/v1/events", `{"category":7,"description":"x"}`, 400, "category"},
		{"trailing data", "POST", "/api/v1/events", `{"category":"dispute","description":"x","grid":"511083001001001"} {}`, 400, "body"},
		{"empty body", "POST", "/api/v1/events", ``, 400, "body"},
		{"huge body", "POST", "/api/v1/events", `{"description":"` + strings.Repeat("x", MaxBody) + `"}`, 413, ""},
		{"unknown category", "POST", "/api/v1/events", map[string]any{"category": "aliens", "description": "x", "grid": "511083001001001"}, 400, "category"},
		{"out-of-area point", "POST", "/api/v1/events", map[string]any{"category": "dispute", "description": "x", "location": map[string]float64{"lng": 116.4, "lat": 39.9}}, 404, "location"},
		{"bad longitude", "POST", "/api/v1/events", map[string]any{"category": "dispute", "description": "x", "location": map[string]float64{"lng": 500, "lat": 29}}, 400, "location.lng"},
		{"unknown grid", "POST", "/api/v1/events", map[string]any{"category": "dispute", "description": "x", "grid": "511083001001999"}, 404, "grid"},
		{"unknown action", "POST", act, map[string]any{"action": "teleport"}, 400, "action"},
		{"missing handler", "POST", act, map[string]any{"action": "accept", "note": 5}, 400, "note"},
		{"dispatch without handler", "POST", "/api/v1/events/" + ev.ID + "/actions", map[string]any{"action": "dispatch"}, 400, "handler"},
		{"bad event id", "POST", "/api/v1/events/nope/actions", map[string]any{"action": "accept"}, 404, "id"},
		{"bad limit", "GET", "/api/v1/events?limit=0", nil, 400, "limit"},
		{"bad stale", "GET", "/api/v1/events/" + ev.ID + "?stale=maybe", nil, 400, "stale"},
		{"bad status", "GET", "/api/v1/events?status=lost", nil, 400, "status"},
		{"bad overdue", "GET", "/api/v1/events?overdue=perhaps", nil, 400, "overdue"},
		{"bad cursor", "GET", "/api/v1/events?cursor=!!", nil, 400, "cursor"},
		{"bad period", "GET", "/api/v1/stats?period=2026-11", nil, 400, "period"},
		{"bad source", "GET", "/api/v1/stats?source=gossip", nil, 400, "source"},
		{"no rollup", "GET", "/api/v1/stats?jurisdiction=511083001&source=rollup", nil, 404, "jurisdiction"},
		{"locate without lat", "GET", "/api/v1/grids/locate?lng=105", nil, 400, "lat"},
		{"unknown jurisdiction", "GET", "/api/v1/jurisdictions/999999", nil, 404, "code"},
		{"grid not a feature", "POST", "/api/v1/grids", map[string]any{"type": "Polygon"}, 400, "type"},
		{"grid bad geometry", "POST", "/api/v1/grids", map[string]any{"type": "Feature", "geometry": map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{105.3, 29.3}, {105.31, 29.3}, {105.31, 29.31}}}},
			"properties": map[string]any{"code": "511083001001201", "name": "x", "jurisdiction": "511083001001"}}, 400, "geometry.coordinates[0]"},
		{"malformed time", "POST", "/api/v1/people/p-none/visits", map[string]any{"at": "yesterday", "visitor": "网格员", "method": "home"}, 400, "at"},
		{"malformed activity time", "POST", "/api/v1/party/activities", map[string]any{"org": "x", "kind": "branch_meeting", "at": "soon"}, 400, "at"},
		{"malformed expiry", "POST", "/api/v1/tokens/tidy", map[string]any{"expired_before": 5}, 400, "expired_before"},
		{"transfer force not a boolean", "POST", "/api/v1/cluster/leader", `{"id":"r2","force":"yes"}`, 400, "force"},
		{"no route", "GET", "/api/v1/nothing", nil, 404, "path"},
		{"wrong method", "DELETE", "/api/v1/events", nil, 405, "method"},
	}
	for _, c := range cases {
		tok := f.admin
		switch {
		case strings.HasPrefix(c.path, "/api/v1/tokens"):
			tok = f.sec
		case strings.HasPrefix(c.path, "/api/v1/cluster/"):
			tok = f.sys
		}
		resp, m := f.do(c.method, c.path, tok, c.body, nil)
		expectProblem(t, c.what, resp, m, c.status, c.field)
		if c.status == 405 && resp.Header.Get("Allow") == "" {
			t.Errorf("%s: no Allow header", c.what)
		}
	}
	if f.digest() != before {
		t.Fatal("bad input changed the state")
	}
}

func TestNotLeaderAndStaleReads(t *testing.T) {
	f := newFixture(t)
	var ev model.Event
	f.do("POST", "/api/v1/events", f.admin, map[string]any{"category": "dispute", "description": "x", "grid": "511083001001001"}, &ev)
	f.b.notLeader.Store(true)
	resp, m := f.do("GET", "/api/v1/events/"+ev.ID, f.admin, nil, nil)
	expectProblem(t, "consistent read on a follower", resp, m, 503, "")
	if m["leader"] != "127.0.0.1:7002" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("not-leader problem: %v", m)
	}
	if resp, _ := f.do("GET", "/api/v1/events/"+ev.ID+"?stale=true", f.admin, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("stale read: %d", resp.StatusCode)
	}
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	f := newFixture(t)
	var doc map[string]any
	if resp, _ := f.do("GET", "/api/v1/openapi.json", "", nil, &doc); resp.StatusCode != 200 || doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi: %d %v", resp.StatusCode, doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	seen := 0
	for path, item := range paths {
		for method := range item.(map[string]any) {
			seen++
			found := false
			for _, rt := range routes {
				found = found || (rt.path == path && strings.ToLower(rt.method) == method)
			}
			if !found {
				t.Errorf("documented %s %s is not served", method, path)
			}
			// The server answers it (anything but a missing route or method).
			concrete := pathParam.ReplaceAllString(path, "x")
			resp, m := f.do(strings.ToUpper(method), concrete, f.admin, "{}", nil)
			if resp.StatusCode == 405 || (resp.StatusCode == 404 && m["field"] == "path") {
				t.Errorf("%s %s: the mux does not route it (%d)", method, path, resp.StatusCode)
			}
		}
	}
	want := 0
	for _, rt := range routes {
		if rt.path != pluginRoutes { // listed per running plugin
			want++
		}
	}
	if seen != want {
		t.Fatalf("%d operations documented, %d routes", seen, want)
	}
}

func TestLogsHoldNoSecrets(t *testing.T) {
	f := newFixture(t)
	idn := "51108319900307123X"
	f.do("POST", "/api/v1/events", f.admin, map[string]any{"category": "dispute", "description": "当事人身份证 " + idn, "grid": "511083001001001"}, nil)
	f.do("GET", "/api/v1/events?jurisdiction=511083&category=dispute", f.admin, nil, nil)
	f.do("GET", "/api/v1/events", "fq_wrong-secret-for-the-log-test", nil, nil)
	out := f.logs.String()
	if !strings.Contains(out, `"route":"/api/v1/events"`) {
		t.Fatalf("requests were not logged: %s", out)
	}
	for _, secret := range []string{f.admin, idn, "fq_wrong-secret-for-the-log-test", "当事人", "category=dispute", "jurisdiction=511083"} {
		if strings.Contains(out, secret) {
			t.Fatalf("log holds %q", secret)
		}
	}
	// The access log says who asked (token id and role), from where, and
	// what came of it.
	admin, err := f.b.s.Tokens.Authenticate(f.admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"token":"` + admin.ID + `"`, `"role":"center_admin"`, `"client":"127.0.0.1"`, `"status":401`} {
		if !strings.Contains(out, want) {
			t.Fatalf("the access log lacks %s: %s", want, out)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"category":"dispute","description":"x","grid":"511083001001001"}`))
	f.Add([]byte(`{"action":"dispatch","handler":"h","deadline":"2026-12-01T00:00:00Z"}`))
	f.Add([]byte(`{"location":{"lng":"x"}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"deadline":"soon","at":{"x":1}}`))
	f.Add([]byte(`{"location":{"lng":1,"lng":2},"category":"a","category":"b"}`))
	f.Add([]byte(`{"location":{"alt":1},"attachments":[{"x":1}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, target := range []any{&model.Report{}, &model.Action{}, &gridInput{}, &model.VisitInput{}} {
			req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
			err := decode(req, target)
			if err == nil {
				continue
			}
			if status, _ := statusOf(err); status != 400 && status != 413 {
				t.Fatalf("decode error maps to %d: %v", status, err)
			}
		}
	})
}

// FuzzCheckQuery: a query the check lets through is one net/url parses
// whole, so no parameter is dropped without a word.
func FuzzCheckQuery(f *testing.F) {
	for _, q := range []string{"limit=5&cursor=abc", "limit=%zz", "cursor=%%%", "a=1;b=2", "%zz=1", "q=%E7%BD%91%E6%A0%BC&&x="} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if checkQuery(q) == nil {
			if _, err := url.ParseQuery(q); err != nil {
				t.Fatalf("%q passed the check but does not parse: %v", q, err)
			}
		}
	})
}

func TestAuditBackupAndClusterRoutes(t *testing.T) {
	f := newFixture(t)
	townSys := f.issue(access.SystemAdmin, "511083001")
	f.do("POST", "/api/v1/events", f.admin, map[string]any{"category": "dispute", "description": "x", "grid": "511083001001001"}, nil)
	var rep state.VerifyReport
	if resp, _ := f.do("GET", "/api/v1/audit/verify", f.audit, nil, &rep); resp.StatusCode != 200 || !rep.OK || rep.Records == 0 {
		t.Fatalf("verify: %d %+v", resp.StatusCode, rep)
	}
	var page struct {
		Records []state.AuditRecord `json:"records"`
	}
	if resp, _ := f.do("GET", "/api/v1/audit?limit=5", f.audit, nil, &page); resp.StatusCode != 200 || len(page.Records) != 5 || page.Records[0].Seq != 1 {
		t.Fatalf("audit page: %d %d", resp.StatusCode, len(page.Records))
	}
	// Township tokens and auditors may not take node-wide admin actions.
	resp, m := f.do("GET", "/api/v1/audit/verify", f.town, nil, nil)
	expectProblem(t, "township verifies", resp, m, 403, "role")
	resp, m = f.do("GET", "/api/v1/backup", f.audit, nil, nil)
	expectProblem(t, "auditor backs up", resp, m, 403, "role")
	resp, m = f.do("GET", "/api/v1/cluster/peers", f.town, nil, nil)
	expectProblem(t, "township operator lists peers", resp, m, 403, "role")
	resp, m = f.do("GET", "/api/v1/cluster/peers", townSys, nil, nil)
	expectProblem(t, "township system admin lists peers", resp, m, 403, "scope")
	resp, m = f.do("GET", "/api/v1/backup", f.admin, nil, nil)
	expectProblem(t, "center admin backs up", resp, m, 403, "role")
	resp, m = f.do("GET", "/api/v1/audit?after=x", f.audit, nil, nil)
	expectProblem(t, "bad after", resp, m, 400, "after")
	// A backup is a state file whose chain verifies.
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/backup", nil)
	req.Header.Set("Authorization", "Bearer "+f.sys)
	req.Header.Set(OTPHeader, f.otpFor(f.sys))
	bresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(bresp.Body)
	bresp.Body.Close()
	if bresp.StatusCode != 200 || len(raw) < 4096 {
		t.Fatalf("backup: %d, %d bytes", bresp.StatusCode, len(raw))
	}
	path := t.TempDir() + "/backup.db"
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := state.OpenStateFileReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if r, err := e.VerifyAudit(); err != nil || r.Records < rep.Records {
		t.Fatalf("backup chain: %+v %v", r, err)
	}
	var peers struct {
		Peers []Peer `json:"peers"`
	}
	if resp, _ := f.do("GET", "/api/v1/cluster/peers", f.admin, nil, &peers); resp.StatusCode != 200 || len(peers.Peers) != 1 {
		t.Fatalf("peers: %d %+v", resp.StatusCode, peers)
	}
}

func TestUnavailableAndUnknownOutcomeStatuses(t *testing.T) {
	for err, kind := range map[error]string{
		fmt.Errorf("core: propose: %w", errs.ErrOutcomeUnknown): "outcome-unknown",
		fmt.Errorf("core: propose: %w", errs.ErrUnavailable):    "unavailable",
	} {
		status, k := statusOf(err)
		if status != 503 || k != kind {
			t.Errorf("%v: %d %s, want 503 %s", err, status, k, kind)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestJSONWhateverTheContentType: curl -d sends a form content type; the
// body is still read as JSON, and a body that is not JSON is refused.
func TestJSONWhateverTheContentType(t *testing.T) {
	f := newFixture(t)
	for ct, want := range map[string]int{"application/x-www-form-urlencoded": 201, "": 201, "text/plain": 201} {
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/events", strings.NewReader(`{"category":"dispute","description":"x","grid":"511083001001001"}`))
		req.Header.Set("Authorization", "Bearer "+f.admin)
		req.Header.Set(OTPHeader, f.otpFor(f.admin))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("content type %q: %d", ct, resp.StatusCode)
		}
	}
	resp, m := f.do("POST", "/api/v1/events", f.admin, "category=dispute&description=x", nil)
	expectProblem(t, "a form body", resp, m, 400, "body")
}

func TestIdempotencyKey(t *testing.T) {
	f := newFixture(t)
	post := func(token, key string) (*http.Response, model.Event) {
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/events", strings.NewReader(`{"category":"dispute","description":"x","grid":"511083001001001"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set(OTPHeader, f.otpFor(token))
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var ev model.Event
		json.NewDecoder(resp.Body).Decode(&ev)
		return resp, ev
	}
	r1, e1 := post(f.admin, "order-7")
	r2, e2 := post(f.admin, "order-7")
	if r1.StatusCode != 201 || r2.StatusCode != 200 || e1.ID != e2.ID || r2.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %d %s %s", r1.StatusCode, r2.StatusCode, e1.ID, e2.ID)
	}
	// Keys are scoped to the token: another caller's "order-7" is its own.
	if r3, e3 := post(f.town, "order-7"); r3.StatusCode != 201 || e3.ID == e1.ID {
		t.Fatalf("other token: %d %s", r3.StatusCode, e3.ID)
	}
	var st model.Figures
	f.do("GET", "/api/v1/stats", f.admin, nil, &st)
	if st.Reported != 2 {
		t.Fatalf("reported %d, want 2", st.Reported)
	}
	resp, _ := post(f.admin, strings.Repeat("k", 201))
	if resp.StatusCode != 400 {
		t.Fatalf("long key: %d", resp.StatusCode)
	}
}

// An Idempotency-Key given again with another body is refused, naming the
// key, and changes nothing; with the same body it is the first answer.
func TestIdempotencyKeyReusedWithAnotherBody(t *testing.T) {
	f := newFixture(t)
	post := func(key, body string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+f.town)
		req.Header.Set("Idempotency-Key", key)
		return decodeResponse(t, req)
	}
	first := `{"category":"dispute","description":"楼道堆物","grid":"511083001001001"}`
	if resp, m := post("order-8", first); resp.StatusCode != 201 {
		t.Fatalf("first: %d %v", resp.StatusCode, m)
	}
	before := f.digest()
	resp, m := post("order-8", `{"category":"dispute","description":"另一件事","grid":"511083001001001"}`)
	expectProblem(t, "key reused", resp, m, 422, "Idempotency-Key")
	if d, _ := m["detail"].(string); !strings.Contains(d, `"order-8"`) {
		t.Errorf("the problem does not name the key: %q", d)
	}
	if f.digest() != before {
		t.Fatal("refused, yet the state changed")
	}
	if resp, _ := post("order-8", first); resp.StatusCode != 200 || resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the same body again: %d", resp.StatusCode)
	}
}
