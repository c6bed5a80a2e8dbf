package api

import (
	"context"
	"slices"
	"testing"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/federation/exchange"
	"github.com/fengqiao/fengqiao/federation/membership"
)

func TestCasesOverHTTP(t *testing.T) {
	f := newFixture(t)
	ctx := core.WithActor(context.Background(), "test")
	if err := f.b.s.Federation.Configure(ctx, model.FederationConfig{Self: "511083",
		Links: []model.Link{{Peer: "500153", Relation: model.RelPeer}, {Peer: "511000", Relation: model.RelParent}}}); err != nil {
		t.Fatal(err)
	}
	var c model.Case
	resp, _ := f.do("POST", "/api/v1/cases", f.admin, map[string]any{"title": "荣昌–隆昌 边界水事纠纷", "description": "两岸村民争用水源", "participants": []string{"500153"}}, &c)
	if resp.StatusCode != 201 || c.Lead != "511083" || len(c.Participants) != 2 || c.Status != "open" {
		t.Fatalf("open: %d %+v", resp.StatusCode, c)
	}
	var e model.CaseEntry
	if resp, _ := f.do("POST", "/api/v1/cases/"+c.ID+"/entries", f.admin, map[string]any{"text": "已联系双方村委"}, &e); resp.StatusCode != 201 || e.Author != "511083" || e.HLC == 0 {
		t.Fatalf("entry: %d %+v", resp.StatusCode, e)
	}
	var entries struct{ Entries []model.CaseEntry }
	f.do("GET", "/api/v1/cases/"+c.ID+"/entries", f.admin, nil, &entries)
	if len(entries.Entries) != 1 || entries.Entries[0].Text != "已联系双方村委" {
		t.Fatalf("entries: %+v", entries)
	}
	var got model.Case
	if resp, _ := f.do("PATCH", "/api/v1/cases/"+c.ID, f.admin, map[string]any{"status": "in_progress"}, &got); resp.StatusCode != 200 || got.Status != "in_progress" || len(got.Entries) != 1 {
		t.Fatalf("status: %d %+v", resp.StatusCode, got)
	}
	var list struct{ Cases []model.Case }
	f.do("GET", "/api/v1/cases", f.admin, nil, &list)
	if len(list.Cases) != 1 || list.Cases[0].ID != c.ID {
		t.Fatalf("list: %+v", list)
	}
	// The lead hands over; after that this node may no longer change the status.
	if resp, _ := f.do("PATCH", "/api/v1/cases/"+c.ID, f.admin, map[string]any{"lead": "500153"}, &got); resp.StatusCode != 200 || got.Lead != "500153" {
		t.Fatalf("handover: %d %+v", resp.StatusCode, got)
	}

	before := f.digest()
	for _, tc := range []struct {
		what, method, path, token string
		body                      any
		status                    int
		field                     string
	}{
		{"no title", "POST", "/api/v1/cases", f.admin, map[string]any{"participants": []string{"500153"}}, 400, "title"},
		{"bad participant", "POST", "/api/v1/cases", f.admin, map[string]any{"title": "x", "participants": []string{"50015"}}, 400, "participants[0]"},
		{"unknown field", "POST", "/api/v1/cases", f.admin, `{"title":"x","participants":["500153"],"secret":1}`, 400, "secret"},
		{"no such case", "GET", "/api/v1/cases/nope", f.admin, nil, 404, "id"},
		{"entry on no case", "POST", "/api/v1/cases/nope/entries", f.admin, map[string]any{"text": "x"}, 404, "case"},
		{"empty entry", "POST", "/api/v1/cases/" + c.ID + "/entries", f.admin, map[string]any{"text": ""}, 400, "text"},
		{"status by a co-handler", "PATCH", "/api/v1/cases/" + c.ID, f.admin, map[string]any{"status": "closed"}, 403, "case"},
		{"bad status", "PATCH", "/api/v1/cases/" + c.ID, f.admin, map[string]any{"status": "lost"}, 400, "status"},
		{"both at once", "PATCH", "/api/v1/cases/" + c.ID, f.admin, map[string]any{"status": "closed", "lead": "511083"}, 400, "lead"},
		{"neither", "PATCH", "/api/v1/cases/" + c.ID, f.admin, map[string]any{}, 400, "status"},
		{"township token", "GET", "/api/v1/cases/" + c.ID, f.town, nil, 404, "id"},
		{"auditor may not write", "POST", "/api/v1/cases/" + c.ID + "/entries", f.audit, map[string]any{"text": "x"}, 403, "role"},
	} {
		resp, m := f.do(tc.method, tc.path, tc.token, tc.body, nil)
		expectProblem(t, tc.what, resp, m, tc.status, tc.field)
	}
	if f.digest() != before {
		t.Fatal("refused case requests changed the state")
	}
}

func TestFederationRoutes(t *testing.T) {
	f := newFixture(t)
	resp, m := f.do("GET", "/api/v1/federation/members", f.admin, nil, nil)
	expectProblem(t, "no pool", resp, m, 404, "federation")

	f.b.members = []membership.Member{
		{Name: "511083/r0", Addr: "127.0.0.1:7946", Meta: membership.Meta{Jurisdiction: "511083", Tier: "county", Leader: true, Term: 3, API: "127.0.0.1:8080", Exchange: "127.0.0.1:8443", Version: "dev"}},
		{Name: "511083/r1", Addr: "127.0.0.1:7947", Meta: membership.Meta{Jurisdiction: "511083", Tier: "county", Leader: true, Term: 2, API: "127.0.0.1:8081", Exchange: "127.0.0.1:8444", Version: "dev"}},
	}
	var members struct {
		Members []membership.Member
		Leaders map[string]string
	}
	f.do("GET", "/api/v1/federation/members", f.admin, nil, &members)
	if len(members.Members) != 2 || members.Leaders["511083"] != "511083/r0" {
		t.Fatalf("members: %+v (the higher term must lead)", members)
	}
	resp, m = f.do("GET", "/api/v1/federation/members", f.town, nil, nil)
	expectProblem(t, "township token", resp, m, 403, "role")

	ctx := core.WithActor(context.Background(), "test")
	if err := f.b.s.Federation.Configure(ctx, model.FederationConfig{Self: "511083", Links: []model.Link{{Peer: "511000", Relation: model.RelParent}}}); err != nil {
		t.Fatal(err)
	}
	f.b.stats = []exchange.LinkStats{{Peer: "511000", Shipped: 7, Acked: 7}}
	var links struct {
		Links []struct {
			Peer      string
			Relation  string
			Depth     uint64
			Transport *exchange.LinkStats
		}
	}
	f.do("GET", "/api/v1/federation/links", f.admin, nil, &links)
	if len(links.Links) != 1 || links.Links[0].Relation != "parent" || links.Links[0].Transport == nil || links.Links[0].Transport.Shipped != 7 {
		t.Fatalf("links: %+v", links)
	}
}

// A case answers with the first 100 entries of its timeline and where the
// rest continue; /entries goes on from there to the end.
func TestCaseCarriesTheHeadOfItsTimeline(t *testing.T) {
	f := newFixture(t)
	ctx := core.WithActor(context.Background(), "test")
	if err := f.b.s.Federation.Configure(ctx, model.FederationConfig{Self: "511083", Links: []model.Link{{Peer: "500153", Relation: model.RelPeer}}}); err != nil {
		t.Fatal(err)
	}
	c, err := f.b.s.Cases.Open(ctx, "交界纠纷", "双方争执", []string{"500153"})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for i := 0; i < caseHead+5; i++ {
		e, err := f.b.s.Cases.AddEntry(ctx, c.ID, "协调记录")
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, e.ID)
	}
	var got struct {
		model.Case
		EntriesNext string `json:"entries_next"`
	}
	if resp, m := f.do("GET", "/api/v1/cases/"+c.ID, f.admin, nil, &got); resp.StatusCode != 200 || len(got.Entries) != caseHead || got.EntriesNext == "" {
		t.Fatalf("case: %d, %d entries, next %q %v", resp.StatusCode, len(got.Entries), got.EntriesNext, m)
	}
	var rest struct {
		Entries []model.CaseEntry `json:"entries"`
		Next    string            `json:"next"`
	}
	if resp, m := f.do("GET", "/api/v1/cases/"+c.ID+"/entries?cursor="+got.EntriesNext, f.admin, nil, &rest); resp.StatusCode != 200 || len(rest.Entries) != 5 || rest.Next != "" {
		t.Fatalf("the rest: %d %d %q %v", resp.StatusCode, len(rest.Entries), rest.Next, m)
	}
	var ids []string
	for _, e := range append(got.Entries, rest.Entries...) {
		ids = append(ids, e.ID)
	}
	if !slices.Equal(ids, all) {
		t.Fatal("head and rest are not the timeline in order")
	}
	// A short timeline carries no entries_next.
	short, _ := f.b.s.Cases.Open(ctx, "另一纠纷", "", []string{"500153"})
	got.EntriesNext = "unset"
	if resp, _ := f.do("GET", "/api/v1/cases/"+short.ID, f.admin, nil, &got); resp.StatusCode != 200 || got.EntriesNext != "unset" {
		t.Fatalf("short case: %d next %q", resp.StatusCode, got.EntriesNext)
	}
}
