package api

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/model"
)

// Issue 21 point 4: for every route that names an object, an object outside
// the caller's scope and one that does not exist answer byte for byte the
// same (status, headers but the date, and body once the id itself is set
// aside). The table is checked against the route table: a new route that
// takes an id fails this test until it has a case here.
func TestOutOfScopeAnswersAsMissing(t *testing.T) {
	f := newFixture(t)
	f.withPlugins(t)
	ctx := core.WithActor(context.Background(), "test")
	st := f.b.s
	// Township B's objects, made by the node itself.
	gridB := "511083002001001"
	attB, err := st.Events.Upload(ctx, []byte("%PDF-1.7 oracle"))
	if err != nil {
		t.Fatal(err)
	}
	evB, err := st.Events.Report(ctx, model.Report{Category: "dispute", Description: "B", Grid: gridB, Phone: "13812345678", Attachments: []string{attB.Ref()}})
	if err != nil {
		t.Fatal(err)
	}
	pB, err := st.People.Add(ctx, model.PersonInput{Name: "王五", IDNumber: validID(21), Kind: "registered", Jurisdiction: "511083002001", Grid: gridB})
	if err != nil {
		t.Fatal(err)
	}
	hB, err := st.Houses.Add(ctx, model.House{Address: "B 村 1 号", Jurisdiction: "511083002001", Grid: gridB})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Party.PutOrg(ctx, model.Org{ID: "org-b", Name: "B党委", Kind: model.OrgCommittee, Jurisdiction: "511083002"}); err != nil {
		t.Fatal(err)
	}
	hookB, _, err := st.Webhooks.Put(ctx, core.WebhookSpec{Name: "B", URL: "https://example.com/b", Events: []string{"overdue"}, Format: "json", Under: "511083002"})
	if err != nil {
		t.Fatal(err)
	}
	tkB, _, err := st.Tokens.Create(ctx, "b", access.GridWorker, "511083002", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Federation.Configure(ctx, model.FederationConfig{Self: "511083", Links: []model.Link{{Peer: "500153", Relation: model.RelPeer}}}); err != nil {
		t.Fatal(err)
	}
	caseX, err := st.Cases.Open(ctx, "边界纠纷", "", []string{"500153"})
	if err != nil {
		t.Fatal(err)
	}
	// Township A's callers.
	mk := func(role string) string { return f.issue(role, "511083001") }
	opA, secA, adminA := f.town, mk(access.SecurityAdmin), mk(access.CenterAdmin)
	visit := map[string]any{"at": "2026-11-01T02:00:00Z", "visitor": "网格员", "method": "home", "found": true}
	special := map[string]any{"category": "released", "level": 1, "since": "2025-01-01T00:00:00Z", "details": map[string]any{"release_date": "2025-06-01"}}

	cases := []struct {
		op, token   string
		hidden, nix string // an object outside the scope, and an id nothing has
		query       string
		body        any
		path        string // instead of the route's, for a plugin's own route
	}{
		{op: "getJurisdiction", token: opA, hidden: "511083002", nix: "511083099"},
		{op: "getGrid", token: opA, hidden: gridB, nix: "511083001001099"},
		{op: "updateGrid", token: opA, hidden: gridB, nix: "511083001001099", body: map[string]any{"type": "Feature", "geometry": map[string]any{"type": "Polygon"}, "properties": map[string]any{"name": "改"}}},
		{op: "retireGrid", token: opA, hidden: gridB, nix: "511083001001099", body: map[string]any{"reason": "重划"}},
		{op: "assignWorker", token: opA, hidden: gridB, nix: "511083001001099", body: map[string]any{"role": "part_time"}},
		{op: "removeWorker", token: opA, hidden: gridB, nix: "511083001001099"},
		{op: "getEvent", token: opA, hidden: evB.ID, nix: "511083-20261207-999999"},
		{op: "getAttachment", token: opA, hidden: evB.ID, nix: "511083-20261207-999999"},
		{op: "eventContact", token: opA, hidden: evB.ID, nix: "511083-20261207-999999"},
		{op: "actOnEvent", token: opA, hidden: evB.ID, nix: "511083-20261207-999999", body: map[string]any{"action": "accept"}},
		{op: "getPerson", token: opA, hidden: pB.ID, nix: "p-nobody"},
		{op: "updatePerson", token: opA, hidden: pB.ID, nix: "p-nobody", body: map[string]any{"kind": "floating"}},
		{op: "transferPerson", token: opA, hidden: pB.ID, nix: "p-nobody", body: map[string]any{"jurisdiction": "511083001001", "reason": "搬家"}},
		{op: "setSpecial", token: opA, hidden: pB.ID, nix: "p-nobody", body: special},
		{op: "listVisits", token: opA, hidden: pB.ID, nix: "p-nobody"},
		{op: "recordVisit", token: opA, hidden: pB.ID, nix: "p-nobody", body: visit},
		{op: "getHouse", token: opA, hidden: hB.ID, nix: "h-nobody"},
		{op: "updateHouse", token: opA, hidden: hB.ID, nix: "h-nobody", body: map[string]any{"rented": true}},
		{op: "retireHouse", token: opA, hidden: hB.ID, nix: "h-nobody", body: map[string]any{"reason": "拆除"}},
		{op: "deleteWebhook", token: adminA, hidden: hookB.ID, nix: "wh-nobody"},
		{op: "webhookDeliveries", token: adminA, hidden: hookB.ID, nix: "wh-nobody"},
		{op: "revokeStaffToken", token: opA, hidden: tkB.ID, nix: "tok-nobody0000"},
		{op: "revokeToken", token: secA, hidden: tkB.ID, nix: "tok-nobody0000"},
		{op: "open311Get", token: opA, hidden: evB.ID + ".json", nix: "511083-20261207-999999.json"},
		{op: "getCase", token: adminA, hidden: caseX.ID, nix: "511083-20261207-C999"},
		{op: "updateCase", token: adminA, hidden: caseX.ID, nix: "511083-20261207-C999", body: map[string]any{"status": "closed"}},
		{op: "listCaseEntries", token: adminA, hidden: caseX.ID, nix: "511083-20261207-C999"},
		{op: "addCaseEntry", token: adminA, hidden: caseX.ID, nix: "511083-20261207-C999", body: map[string]any{"text": "x"}},
		{op: "listMembers", token: opA, query: "org", hidden: "org-b", nix: "org-nobody"},
		{op: "listActivities", token: opA, query: "org", hidden: "org-b", nix: "org-nobody"},
		{op: "pluginGet", token: opA, path: "/api/v1/plugins/board/board", query: "jurisdiction", hidden: "511083002", nix: "511083099"},
		{op: "pluginPost", token: opA, path: "/api/v1/plugins/board/points", query: "jurisdiction", hidden: "511083002", nix: "511083099", body: map[string]any{}},
		{op: "pluginPut", token: opA, path: "/api/v1/plugins/board/items/7", query: "jurisdiction", hidden: "511083002", nix: "511083099", body: map[string]any{}},
		{op: "pluginPatch", token: opA, path: "/api/v1/plugins/board/items/7", query: "jurisdiction", hidden: "511083002", nix: "511083099", body: map[string]any{}},
		{op: "pluginDelete", token: opA, path: "/api/v1/plugins/board/items/7", query: "jurisdiction", hidden: "511083002", nix: "511083099"},
	}
	// Routes that name something in their path but no scoped object: the
	// group's own peers, open to node-wide tokens only.
	// The plugin catalog is the group's too.
	notScoped := []string{"removePeer", "getPlugin", "enablePlugin", "disablePlugin", "open311Service", "acceptHandover"} // services are the group's categories; handovers are the group's, for tokens covering it

	byOp := map[string]route{}
	for _, rt := range routes {
		byOp[rt.op] = rt
	}
	covered := map[string]bool{}
	param := regexp.MustCompile(`\{\w+\}`)
	for _, c := range cases {
		covered[c.op] = true
		rt, ok := byOp[c.op]
		if !ok {
			t.Fatalf("no route %s", c.op)
		}
		answer := func(id string) (int, http.Header, string) {
			path := param.ReplaceAllString(rt.path, id)
			if c.path != "" {
				path = c.path
			}
			if c.query != "" {
				path += "?" + c.query + "=" + id
			}
			before := f.digest()
			resp := f.raw(rt.method, path, c.token, c.body)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if f.digest() != before {
				t.Errorf("%s %s changed the state", c.op, id)
			}
			h := resp.Header.Clone()
			h.Del("Date")
			h.Del("Content-Length") // the ids' lengths differ; the bodies are compared whole

			return resp.StatusCode, h, strings.ReplaceAll(string(body), strings.TrimSuffix(id, ".json"), "ID")
		}
		hs, hh, hb := answer(c.hidden)
		ms, mh, mb := answer(c.nix)
		if hs != 404 || hs != ms || hb != mb || !headersEqual(hh, mh) {
			t.Errorf("%s: out of scope %d %v %s\n  missing %d %v %s", c.op, hs, hh, hb, ms, mh, mb)
		}
	}
	for _, rt := range routes {
		if (strings.Contains(rt.path, "{") || slices.Contains([]string{"listMembers", "listActivities"}, rt.op)) && !covered[rt.op] && !slices.Contains(notScoped, rt.op) {
			t.Errorf("route %s %s names an object but has no out-of-scope case here", rt.method, rt.path)
		}
	}
}

func headersEqual(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}
