package api

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/model"
)

// TestListingsPageOverHTTP: every paged listing refuses a bad limit or cursor
// with a problem naming it and changes nothing, honours the bound the
// OpenAPI document gives, and pages by next to exactly what the token's
// scope holds.
func TestListingsPageOverHTTP(t *testing.T) {
	f := newFixture(t)
	orgs := []map[string]any{
		{"id": "c1", "name": "古湖街道党工委", "kind": "committee", "jurisdiction": "511083001"},
		{"id": "c2", "name": "另一街道党工委", "kind": "committee", "jurisdiction": "511083002"},
	}
	want := []string{"c1"} // by jurisdiction code, then id: the township's committee first
	for i := 0; i < 5; i++ {
		orgs = append(orgs, map[string]any{"id": fmt.Sprint("b", i, "-1"), "name": "支部", "kind": "branch", "parent": "c1", "jurisdiction": "511083001001"},
			map[string]any{"id": fmt.Sprint("b", i, "-2"), "name": "支部", "kind": "branch", "parent": "c2", "jurisdiction": "511083002001"})
		want = append(want, fmt.Sprint("b", i, "-1"))
	}
	for _, o := range orgs {
		if resp, m := f.do("POST", "/api/v1/party/orgs", f.admin, o, nil); resp.StatusCode != 200 {
			t.Fatalf("org %v: %d %v", o["id"], resp.StatusCode, m)
		}
	}
	for i := 0; i < 4; i++ {
		if resp, m := f.do("POST", "/api/v1/party/members", f.admin, map[string]any{"id": fmt.Sprint("m", i), "name": "党员", "org": "b0-1", "status": "full"}, nil); resp.StatusCode != 200 {
			t.Fatalf("member: %d %v", resp.StatusCode, m)
		}
	}
	// A person with visits and a case with entries, for the listings under
	// one record.
	ctx := core.WithActor(context.Background(), "test")
	person, err := f.b.s.People.Add(ctx, model.PersonInput{Name: "赵六", IDNumber: validID(21), Kind: "registered", Jurisdiction: "511083001001", Grid: "511083001001001"})
	if err != nil {
		t.Fatal(err)
	}
	since := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	if _, err := f.b.s.People.SetSpecial(ctx, person.ID, model.SpecialInput{Category: model.SpecialCorrection, Level: 3, Since: since,
		Details: model.SpecialDetails{CorrectionType: "probation", TermStart: "2026-10-01", TermEnd: "2027-10-01"}, Team: []string{"网格员李"}}); err != nil {
		t.Fatal(err)
	}
	for v := 0; v < 5; v++ {
		if _, err := f.b.s.People.RecordVisit(ctx, person.ID, model.VisitInput{At: since.AddDate(0, 0, v), Visitor: "网格员李", Method: "home", Found: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.b.s.Federation.Configure(ctx, model.FederationConfig{Self: "511083", Links: []model.Link{{Peer: "500153", Relation: model.RelPeer}}}); err != nil {
		t.Fatal(err)
	}
	cs, err := f.b.s.Cases.Open(ctx, "荣昌–隆昌 边界水事纠纷", "两岸村民争用水源", []string{"500153"})
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	for i := 0; i < 5; i++ {
		e, err := f.b.s.Cases.AddEntry(ctx, cs.ID, fmt.Sprint("第", i, "次协调"))
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e.ID)
	}
	hook, _, err := f.b.s.Webhooks.Put(ctx, core.WebhookSpec{Name: "分页", URL: "https://example.com/hook", Events: []string{"overdue"}, Format: "json", Under: "511083"})
	if err != nil {
		t.Fatal(err)
	}
	before := f.digest()

	query := map[string]string{"listMembers": "org=b0-1&", "listActivities": "org=b0-1&"}
	path := map[string]string{"listVisits": "/api/v1/people/" + person.ID + "/visits", "listCaseEntries": "/api/v1/cases/" + cs.ID + "/entries",
		"webhookDeliveries": "/api/v1/webhooks/" + hook.ID + "/deliveries"}
	byID := map[string]bool{"listCases": true}
	served := 0
	for _, rt := range routes {
		max, ok := paged[rt.op]
		if !ok {
			continue
		}
		served++
		base := rt.path + "?" + query[rt.op]
		if p, ok := path[rt.op]; ok {
			base = p + "?"
		}
		for _, c := range []struct {
			q      string
			status int
			field  string
		}{
			{"limit=0", 400, "limit"},
			{"limit=x", 400, "limit"},
			{fmt.Sprint("limit=", max+1), 400, "limit"},
			{"cursor=!!", 400, "cursor"},
			{"cursor=" + strings.Repeat("_", 7), 400, "cursor"}, // base64 of bytes outside any listing
		} {
			if byID[rt.op] && c.field == "cursor" && c.q != "cursor=!!" {
				continue // keyed by id, not place: any well-formed cursor is a place to resume
			}
			resp, m := f.do("GET", base+c.q, f.tokenFor(rt), nil, nil)
			expectProblem(t, rt.op+" "+c.q, resp, m, c.status, c.field)
		}
		if resp, m := f.do("GET", fmt.Sprint(base, "limit=", max), f.tokenFor(rt), nil, nil); resp.StatusCode != 200 {
			t.Errorf("%s with the documented largest limit %d: %d %v", rt.op, max, resp.StatusCode, m)
		}
	}
	if served != len(paged) {
		t.Fatalf("%d paged listings, %d routes serve them", len(paged), served)
	}
	if f.digest() != before {
		t.Fatal("bad paging parameters changed the state")
	}

	// The township token pages through its own orgs only.
	follow := func(token, path, key string, id ...string) []string {
		var ids []string
		for next, pages := "", 0; ; pages++ {
			if pages > 20 {
				t.Fatalf("%s: pagination does not end", path)
			}
			var page map[string]any
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			if resp, m := f.do("GET", path+sep+"limit=2&cursor="+next, token, nil, &page); resp.StatusCode != 200 {
				t.Fatalf("%s: %d %v", path, resp.StatusCode, m)
			}
			items := page[key].([]any)
			if len(items) > 2 {
				t.Fatalf("%s: page of %d", path, len(items))
			}
			for _, it := range items {
				field := "id"
				if len(id) > 0 {
					field = id[0]
				}
				ids = append(ids, fmt.Sprint(it.(map[string]any)[field]))
			}
			if next, _ = page["next"].(string); next == "" {
				return ids
			}
		}
	}
	if got := follow(f.town, "/api/v1/party/orgs", "orgs"); !slices.Equal(got, want) {
		t.Fatalf("township orgs: %v, want %v", got, want)
	}
	if got := follow(f.town, "/api/v1/party/members?org=b0-1", "members"); !slices.Equal(got, []string{"m0", "m1", "m2", "m3"}) {
		t.Fatalf("members: %v", got)
	}
	if got := follow(f.town, path["listVisits"], "visits", "seq"); !slices.Equal(got, []string{"1", "2", "3", "4", "5"}) {
		t.Fatalf("visits: %v", got)
	}
	if got := follow(f.admin, path["listCaseEntries"], "entries"); !slices.Equal(got, entries) {
		t.Fatalf("case entries: %v, want %v", got, entries)
	}
	resp, m := f.do("GET", "/api/v1/cases/nope/entries", f.admin, nil, nil)
	expectProblem(t, "no such case", resp, m, 404, "id")
	resp, m = f.do("GET", "/api/v1/party/members?org=b0-2", f.town, nil, nil)
	expectProblem(t, "another township's org", resp, m, 404, "org")
	resp, m = f.do("GET", "/api/v1/party/members?org=nope", f.town, nil, nil)
	expectProblem(t, "no such org", resp, m, 404, "org")
	resp, m = f.do("DELETE", "/api/v1/tokens/nope", f.sec, nil, nil)
	expectProblem(t, "no such token", resp, m, 404, "id")

	// A township admin pages through the tokens of its township only.
	var made struct {
		Token  tokenView `json:"token"`
		Secret string    `json:"secret"`
	}
	if resp, m := f.do("POST", "/api/v1/tokens", f.sec, map[string]any{"name": "镇安全管理员", "role": "security_admin", "scope": "511083001"}, &made); resp.StatusCode != 201 {
		t.Fatalf("token: %d %v", resp.StatusCode, m)
	}
	var inTown []string
	for _, tk := range []string{f.town, made.Secret} {
		got, err := f.b.s.Tokens.Authenticate(tk)
		if err != nil {
			t.Fatal(err)
		}
		inTown = append(inTown, got.ID)
	}
	slices.Sort(inTown)
	if got := follow(made.Secret, "/api/v1/tokens", "tokens"); !slices.Equal(got, inTown) {
		t.Fatalf("township tokens: %v, want %v", got, inTown)
	}
	// The county's security admin sees all seven, by scope then id: the
	// county's own tokens come before the township's.
	if got := follow(f.sec, "/api/v1/tokens", "tokens"); len(got) != 7 || !slices.Equal(got[5:], inTown) || len(slices.Compact(slices.Sorted(slices.Values(got)))) != 7 {
		t.Fatalf("county tokens: %v, ending with the township's %v", got, inTown)
	}
	county, err := f.b.s.Tokens.Authenticate(f.admin)
	if err != nil {
		t.Fatal(err)
	}
	before = f.digest()
	resp, m = f.do("DELETE", "/api/v1/tokens/"+county.ID, made.Secret, nil, nil)
	expectProblem(t, "revoking a wider token", resp, m, 404, "id")
	if f.digest() != before {
		t.Fatal("a refused revoke changed the state")
	}

	// Another township's operator learns nothing of this one's person.
	_, elsewhere, err := f.b.s.Tokens.Create(ctx, "另一街道", access.TownshipOperator, "511083002", "")
	if err != nil {
		t.Fatal(err)
	}
	resp, m = f.do("GET", path["listVisits"], elsewhere, nil, nil)
	expectProblem(t, "visits outside the token's scope", resp, m, 404, "id")
}
