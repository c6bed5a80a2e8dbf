package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/access"
)

// deptToken issues a county-wide department_handler token of dept, held by
// a named person, and returns its secret.
func (f *fixture) deptToken(dept string) string {
	f.t.Helper()
	is, err := f.b.s.Tokens.CreateWith(core.WithActor(context.Background(), "test"), core.TokenSpec{Name: dept, Role: access.DepartmentHandler,
		Scope: "511083", Person: dept + "王科长", StaffNo: "GA-0042", Department: dept})
	if err != nil {
		f.t.Fatal(err)
	}
	return is.Secret
}

// Handlers are identities: a dispatch names a department or a token; a
// department_handler acts only on what is dispatched to it and finds it in
// its queue (?mine=true); a returned event says who gave it back and why.
func TestHandlersAreIdentities(t *testing.T) {
	f := newFixture(t)
	chengguan, zhujian := f.deptToken("城管局"), f.deptToken("住建局")
	var ev eventView
	if resp, m := f.do("POST", "/api/v1/events", f.town, map[string]any{"category": "urban_management", "description": "占道经营", "grid": "511083001001001"}, &ev); resp.StatusCode != 201 {
		t.Fatalf("report: %d %v", resp.StatusCode, m)
	}
	act := func(token string, a map[string]any) (*http.Response, map[string]any) {
		return f.do("POST", "/api/v1/events/"+ev.ID+"/actions", token, a, nil)
	}
	if resp, m := act(f.town, map[string]any{"action": "accept"}); resp.StatusCode != 200 {
		t.Fatalf("accept: %d %v", resp.StatusCode, m)
	}
	// A bare name is a department; a token handler must be one that exists.
	before := f.digest()
	resp, m := act(f.town, map[string]any{"action": "dispatch", "handler": "token:tok-nobody000"})
	expectProblem(t, "dispatch to no token", resp, m, 404, "handler")
	if f.digest() != before {
		t.Fatal("a refused dispatch changed the state")
	}
	if resp, m := act(f.town, map[string]any{"action": "dispatch", "handler": "城管局"}); resp.StatusCode != 200 || m["handler"] != "dept:城管局" {
		t.Fatalf("dispatch: %d %v", resp.StatusCode, m)
	}
	// The other department may read it but not act on it.
	before = f.digest()
	resp, m = act(zhujian, map[string]any{"action": "sign"})
	expectProblem(t, "another department signs", resp, m, 403, "handler")
	if f.digest() != before {
		t.Fatal("a refused sign changed the state")
	}
	// The department's queue holds it; the other's does not.
	queue := func(token string) int {
		var p struct {
			Events []map[string]any `json:"events"`
		}
		if resp, m := f.do("GET", "/api/v1/events?mine=true", token, nil, &p); resp.StatusCode != 200 {
			t.Fatalf("queue: %d %v", resp.StatusCode, m)
		}
		return len(p.Events)
	}
	if queue(chengguan) != 1 || queue(zhujian) != 0 {
		t.Fatalf("queues: 城管局 %d, 住建局 %d", queue(chengguan), queue(zhujian))
	}
	// 城管局 gives it back: the event names who and why.
	if resp, m := act(chengguan, map[string]any{"action": "return", "reason": "不属于本部门职责"}); resp.StatusCode != 200 {
		t.Fatalf("return: %d %v", resp.StatusCode, m)
	}
	var got eventView
	f.do("GET", "/api/v1/events/"+ev.ID, f.town, nil, &got)
	if r := got.Returned; r == nil || r.Person != "城管局王科长" || r.Reason != "不属于本部门职责" || r.Handler != "dept:城管局" {
		t.Fatalf("returned: %+v", got.Returned)
	}
	if queue(chengguan) != 0 {
		t.Fatal("a returned event stays in the department's queue")
	}
	// A bad department name at issue is refused by name.
	if _, err := f.b.s.Tokens.CreateWith(core.WithActor(context.Background(), "test"), core.TokenSpec{Name: "x", Role: access.GridWorker,
		Scope: "511083", Department: "城管局"}); err == nil {
		t.Fatal("a grid worker's token took a department")
	}
}

// The reporter's phone answers masked, and opens for the 回访 call only
// to roles that may reveal, with a purpose.
func TestReporterContactOverHTTP(t *testing.T) {
	f := newFixture(t)
	var ev map[string]any
	if resp, m := f.do("POST", "/api/v1/events", f.town, map[string]any{"category": "dispute", "description": "噪音", "grid": "511083001001001",
		"reporter_phone": "13912345678", "reporter_contact_time": "晚上"}, &ev); resp.StatusCode != 201 {
		t.Fatalf("report: %d %v", resp.StatusCode, m)
	}
	if ev["reporter_phone"] != "139****5678" || ev["reporter_contact_time"] != "晚上" {
		t.Fatalf("answer: %v", ev)
	}
	id := ev["id"].(string)
	resp, m := f.do("GET", "/api/v1/events/"+id+"/contact?basis=visit&purpose=%E5%9B%9E%E8%AE%BF", f.town, nil, nil)
	if resp.StatusCode != 200 || m["reporter_phone"] != "13912345678" {
		t.Fatalf("contact: %d %v", resp.StatusCode, m)
	}
	resp, m = f.do("GET", "/api/v1/events/"+id+"/contact?basis=visit", f.town, nil, nil)
	expectProblem(t, "no purpose", resp, m, 400, "purpose")
	resp, m = f.do("POST", "/api/v1/events", f.town, map[string]any{"category": "dispute", "description": "x", "grid": "511083001001001", "reporter_phone": "abc"}, nil)
	expectProblem(t, "bad phone", resp, m, 400, "reporter_phone")
	if strings.Contains(f.logs.String(), "13912345678") {
		t.Fatal("the reporter's phone is in the log")
	}
}

// A township operator issues and revokes its own grid workers' tokens,
// never a role above its own; the audit names who acted.
func TestStaffTokens(t *testing.T) {
	f := newFixture(t)
	var is map[string]any
	resp, m := f.do("POST", "/api/v1/tokens/staff", f.town, map[string]any{"name": "网格员李", "role": "grid_worker", "scope": "511083001001001",
		"person": "李网格", "staff_no": "WG-0007"}, &is)
	if resp.StatusCode != 201 {
		t.Fatalf("issue: %d %v", resp.StatusCode, m)
	}
	secret := is["secret"].(string)
	id := is["token"].(map[string]any)["id"].(string)
	before := f.digest()
	resp, m = f.do("POST", "/api/v1/tokens/staff", f.town, map[string]any{"name": "x", "role": "center_admin", "scope": "511083001"}, nil)
	expectProblem(t, "a role above its own", resp, m, 400, "role")
	resp, m = f.do("POST", "/api/v1/tokens/staff", f.town, map[string]any{"name": "x", "role": "grid_worker", "scope": "511083002"}, nil)
	expectProblem(t, "another township", resp, m, 404, "scope")
	resp, m = f.do("DELETE", "/api/v1/tokens/staff/"+tokenID(t, f, f.admin), f.town, nil, nil)
	expectProblem(t, "an administrator's token", resp, m, 404, "id")
	if f.digest() != before {
		t.Fatal("a refusal changed the state")
	}
	// The grid worker acts; the audit names them.
	if resp, m := f.do("POST", "/api/v1/events", secret, map[string]any{"category": "dispute", "description": "员工", "grid": "511083001001001"}, nil); resp.StatusCode != 201 {
		t.Fatalf("the grid worker reports: %d %v", resp.StatusCode, m)
	}
	var page auditPage
	rep, _ := f.b.s.Engine().VerifyAudit()
	f.do("GET", fmt.Sprintf("/api/v1/audit?after=%d", rep.Records-5), f.audit, nil, &page)
	named := false
	for _, r := range page.Records {
		if r.Person == "李网格" && r.StaffNo == "WG-0007" {
			named = true
		}
	}
	if !named {
		t.Fatal("the audit does not name the grid worker")
	}
	var list tokensPage
	f.do("GET", "/api/v1/tokens/staff", f.town, nil, &list)
	found := false
	for _, tv := range list.Tokens {
		if tv.Role != "grid_worker" && tv.Role != "community_operator" && tv.Role != "township_operator" {
			t.Fatalf("a staff listing shows a %s token", tv.Role)
		}
		found = found || (tv.ID == id && tv.Person == "李网格")
	}
	if !found {
		t.Fatalf("staff tokens: %+v", list.Tokens)
	}
	if resp, _ := f.do("DELETE", "/api/v1/tokens/staff/"+id, f.town, nil, nil); resp.StatusCode != 204 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if resp, _ := f.do("GET", "/api/v1/events", secret, nil, nil); resp.StatusCode != 401 {
		t.Fatalf("a revoked staff token still works: %d", resp.StatusCode)
	}
}

// tokenID finds the id of the token whose secret is given.
func tokenID(t *testing.T, f *fixture, secret string) string {
	t.Helper()
	tk, err := f.b.s.Tokens.Authenticate(secret)
	if err != nil {
		t.Fatal(err)
	}
	return tk.ID
}

// An attachment is uploaded, named by a report, and served only through an
// event the caller may read, as a download no browser runs.
func TestAttachmentsOverHTTP(t *testing.T) {
	f := newFixture(t)
	png := append([]byte("\x89PNG\r\n\x1a\n"), strings.Repeat("像素", 1000)...)
	var a attachmentView
	if resp, m := f.do("POST", "/api/v1/attachments", f.town, png, &a); resp.StatusCode != 201 || a.Media != "image/png" || a.Ref != "att:"+a.ID {
		t.Fatalf("upload: %d %v %+v", resp.StatusCode, m, a)
	}
	resp, m := f.do("POST", "/api/v1/attachments", f.town, []byte("<svg onload=alert(1)>"), nil)
	expectProblem(t, "an SVG", resp, m, 400, "body")
	big := append([]byte{0xFF, 0xD8, 0xFF}, make([]byte, 10<<20)...)
	if resp := f.raw("POST", "/api/v1/attachments", f.town, big); resp.StatusCode != 413 {
		t.Fatalf("over 10 MiB: %d", resp.StatusCode)
	}
	var ev map[string]any
	if resp, m := f.do("POST", "/api/v1/events", f.town, map[string]any{"category": "dispute", "description": "附件", "grid": "511083001001001", "attachments": []string{a.Ref}}, &ev); resp.StatusCode != 201 {
		t.Fatalf("report: %d %v", resp.StatusCode, m)
	}
	resp, m = f.do("POST", "/api/v1/events", f.town, map[string]any{"category": "dispute", "description": "x", "grid": "511083001001001", "attachments": []string{"javascript:alert(1)"}}, nil)
	expectProblem(t, "a javascript: reference", resp, m, 400, "attachments[0]")
	path := "/api/v1/events/" + ev["id"].(string) + "/attachments/" + a.ID
	resp, body := f.fetch(path, f.town)
	if resp.StatusCode != 200 || !bytes.Equal(body, png) || resp.Header.Get("Content-Type") != "image/png" ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Disposition") != "attachment" {
		t.Fatalf("download: %d %v", resp.StatusCode, resp.Header)
	}
	// Another township's token, and an event that does not name it, 404.
	other := f.issue("township_operator", "511083002")
	if resp, _ := f.fetch(path, other); resp.StatusCode != 404 {
		t.Fatalf("another township: %d", resp.StatusCode)
	}
	var ev2 map[string]any
	f.do("POST", "/api/v1/events", f.town, map[string]any{"category": "dispute", "description": "无附件", "grid": "511083001001001"}, &ev2)
	if resp, _ := f.fetch("/api/v1/events/"+ev2["id"].(string)+"/attachments/"+a.ID, f.town); resp.StatusCode != 404 {
		t.Fatalf("an event that does not name it: %d", resp.StatusCode)
	}
}

// Webhooks over the API: the secret once, the robot's key masked, scope.
func TestWebhooksOverHTTP(t *testing.T) {
	f := newFixture(t)
	var is issuedWebhookView
	resp, m := f.do("POST", "/api/v1/webhooks", f.admin, map[string]any{"name": "镇工作群", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRETKEY",
		"events": []string{"overdue", "supervised"}, "format": "wecom", "under": "511083001"}, &is)
	if resp.StatusCode != 201 || is.Secret != "" || strings.Contains(is.Webhook.URL, "SECRETKEY") {
		t.Fatalf("wecom: %d %v %+v", resp.StatusCode, m, is)
	}
	var own issuedWebhookView
	f.do("POST", "/api/v1/webhooks", f.admin, map[string]any{"name": "中心系统", "url": "https://example.com/hooks", "events": []string{"assigned"}}, &own)
	if own.Secret == "" || !own.Webhook.Signed {
		t.Fatalf("json: %+v", own)
	}
	resp, m = f.do("POST", "/api/v1/webhooks", f.admin, map[string]any{"name": "x", "url": "ftp://example.com", "events": []string{"overdue"}}, nil)
	expectProblem(t, "an ftp URL", resp, m, 400, "url")
	var list webhooksView
	f.do("GET", "/api/v1/webhooks", f.admin, nil, &list)
	if len(list.Webhooks) != 2 || strings.Contains(fmt.Sprint(list), "SECRETKEY") || strings.Contains(fmt.Sprint(list), own.Secret) {
		t.Fatalf("list: %+v", list)
	}
	var page deliveriesPage
	if resp, _ := f.do("GET", "/api/v1/webhooks/"+is.Webhook.ID+"/deliveries", f.admin, nil, &page); resp.StatusCode != 200 || page.Deliveries == nil {
		t.Fatalf("deliveries: %d %+v", resp.StatusCode, page)
	}
	if resp, _ := f.do("DELETE", "/api/v1/webhooks/"+is.Webhook.ID, f.admin, nil, nil); resp.StatusCode != 204 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if resp, _ := f.do("DELETE", "/api/v1/webhooks/"+is.Webhook.ID, f.admin, nil, nil); resp.StatusCode != 404 {
		t.Fatalf("delete again: %d", resp.StatusCode)
	}
}
