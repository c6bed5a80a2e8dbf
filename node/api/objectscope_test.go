package api

import (
	"context"
	"strings"
	"testing"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// The attack of issue 21 point 2: a township operator re-homes another
// township's party org, and moves its members, by posting their ids. Both
// are refused without a word about the records, and nothing changes.
func TestTownshipCannotTakeAnotherTownshipsRecords(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	st := f.b.s
	for _, o := range []model.Org{
		{ID: "b-committee", Name: "B党委", Kind: model.OrgCommittee, Jurisdiction: "511083002"},
		{ID: "b-branch", Name: "B支部", Kind: model.OrgBranch, Parent: "b-committee", Jurisdiction: "511083002001"},
	} {
		if _, err := st.Party.PutOrg(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Party.PutMember(ctx, model.Member{ID: "b-member", Name: "党员", Org: "b-branch", Status: "full"}); err != nil {
		t.Fatal(err)
	}
	if resp, m := f.do("POST", "/api/v1/party/orgs", f.town, model.Org{ID: "a-committee", Name: "A党委", Kind: model.OrgCommittee, Jurisdiction: "511083001"}, nil); resp.StatusCode != 200 {
		t.Fatalf("own org: %d %v", resp.StatusCode, m)
	}
	before := f.digest()
	resp, m := f.do("POST", "/api/v1/party/orgs", f.town, model.Org{ID: "b-branch", Name: "夺走", Kind: model.OrgCommittee, Jurisdiction: "511083001"}, nil)
	expectProblem(t, "re-home B's org", resp, m, 409, "id")
	resp, m2 := f.do("POST", "/api/v1/party/members", f.town, model.Member{ID: "b-member", Name: "党员", Org: "a-committee", Status: "full"}, nil)
	expectProblem(t, "move B's member", resp, m2, 409, "id")
	for _, body := range []map[string]any{m, m2} {
		if d, _ := body["detail"].(string); strings.Contains(d, "511083002") || strings.Contains(d, "B") {
			t.Errorf("the refusal tells about the record: %q", d)
		}
	}
	if f.digest() != before {
		t.Fatal("refused writes changed the state")
	}
	o, err := st.Party.Org("b-branch")
	if err != nil || o.Jurisdiction != "511083002001" || o.Name != "B支部" {
		t.Fatalf("B's org after the attempt: %+v %v", o, err)
	}
}

// Issue 21 point 3: a retired code under township A that resolves into
// township B must not open B to A's tokens, on any route or in token
// creation; and A cannot load such an alias.
func TestAliasesResolveBeforeScopeChecks(t *testing.T) {
	f := newFixture(t)
	// The node itself (no scope) records a code under A that now means B.
	trap := "511083001999"
	if err := f.b.s.Jurisdictions.Load(context.Background(), nil, map[string]string{trap: "511083002"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.s.Events.Report(context.Background(), model.Report{Category: "dispute", Description: "B", Grid: "511083002001001"}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"/api/v1/events?jurisdiction=" + trap,
		"/api/v1/grids?jurisdiction=" + trap,
		"/api/v1/people?jurisdiction=" + trap,
		"/api/v1/party/orgs?jurisdiction=" + trap,
		"/api/v1/party/coverage?jurisdiction=" + trap,
		"/api/v1/stats?jurisdiction=" + trap,
		"/api/v1/jurisdictions/" + trap,
	} {
		resp, m := f.do("GET", path, f.town, nil, nil)
		expectProblem(t, path, resp, m, 404, "")
	}
	before := f.digest()
	resp, m := f.do("POST", "/api/v1/tokens", f.sec, map[string]any{"name": "x", "role": "grid_worker", "scope": trap}, nil)
	if resp.StatusCode != 201 || m["token"].(map[string]any)["scope"] != "511083002" {
		t.Fatalf("the county's admin may issue for B, under its current code: %d %v", resp.StatusCode, m)
	}
	// A township admin cannot: make one for A and try.
	townAdmin := f.issue(access.SecurityAdmin, "511083001")
	before = f.digest()
	resp, m = f.do("POST", "/api/v1/tokens", townAdmin, map[string]any{"name": "x", "role": "grid_worker", "scope": trap}, nil)
	expectProblem(t, "token through an alias", resp, m, 404, "scope")
	resp, m = f.do("POST", "/api/v1/people", f.town, map[string]any{"name": "张三", "id_number": validID(1), "kind": "registered", "jurisdiction": trap}, nil)
	expectProblem(t, "person through an alias", resp, m, 404, "jurisdiction")
	if f.digest() != before {
		t.Fatal("refused writes changed the state")
	}
}

// Issue 21 point 4: registering a person whose ID number is registered out
// of the caller's scope names neither the record nor its place; the answer
// says to ask for a transfer, and the attempt is audited.
func TestRegisteredElsewhereNamesNothing(t *testing.T) {
	f := newFixture(t)
	p, err := f.b.s.People.Add(context.Background(), model.PersonInput{Name: "赵六", IDNumber: validID(31), Kind: "registered", Jurisdiction: "511083002001"})
	if err != nil {
		t.Fatal(err)
	}
	head, before := f.auditHead(), f.digest()
	resp, m := f.do("POST", "/api/v1/people", f.town, map[string]any{"name": "赵六", "id_number": validID(31), "kind": "registered", "jurisdiction": "511083001001"}, nil)
	expectProblem(t, "registered elsewhere", resp, m, 409, "id_number")
	if d, _ := m["detail"].(string); m["rule"] != "registered_elsewhere" || strings.Contains(d, p.ID) || strings.Contains(d, "511083002") || !strings.Contains(d, "transfer") {
		t.Fatalf("the answer: %v", m)
	}
	if f.digest() != before {
		t.Fatal("the refusal changed the state")
	}
	evs := f.auditEvents(head)
	if len(evs) != 1 || evs[0].Kind != state.AuditConflict || evs[0].Route != "POST /api/v1/people" {
		t.Fatalf("audit: %+v", evs)
	}
}
