package api

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/model"
)

// Issue 21 point 5: a special-population record's category, level, contact
// status and support team are sensitive in themselves. The roles that may
// reveal and the grid workers of the person's grid see them; every other
// reader sees that the person needs attention and when a visit is due.
func TestSpecialPopulationMinimumNecessary(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	grid := "511083001001001"
	p, err := f.b.s.People.Add(ctx, model.PersonInput{Name: "刘晓梅", IDNumber: validID(11), Kind: "registered", Jurisdiction: "511083001001", Grid: grid})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.s.People.SetSpecial(ctx, p.ID, model.SpecialInput{Category: model.SpecialDrug, Level: 3, Team: []string{"禁毒社工王"},
		Since: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Details: model.SpecialDetails{DrugType: "冰毒", DrugStatus: "community_rehab"}}); err != nil {
		t.Fatal(err)
	}
	mk := f.issue
	ownWorker, otherWorker := mk(access.GridWorker, grid), mk(access.GridWorker, "511083001001002")
	villageWorker := mk(access.GridWorker, "511083001001")
	sensitive := []string{model.SpecialDrug, `"level"`, "禁毒社工王", `"contact"`}
	for _, c := range []struct {
		who, token string
		full       bool
	}{
		{"center_admin", f.admin, true}, {"township_operator", f.town, true}, {"grid worker of the grid", ownWorker, true},
		{"grid worker of the village", villageWorker, false},
		{"department_handler", f.handle, false}, {"audit_admin", f.audit, false},
	} {
		for _, path := range []string{"/api/v1/people/" + p.ID, "/api/v1/people?jurisdiction=511083001001",
			"/api/v1/people?jurisdiction=511083001001&visits_due_before=2030-01-01T00:00:00Z"} {
			if c.token == ownWorker {
				path = strings.Replace(path, "jurisdiction=511083001001", "jurisdiction="+grid, 1)
			}
			resp, m := f.do("GET", path, c.token, nil, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("%s %s: %d %v", c.who, path, resp.StatusCode, m)
			}
			body := mustJSON(m)
			for _, s := range sensitive {
				if strings.Contains(body, s) != c.full {
					t.Errorf("%s %s: sees %s = %v, want %v", c.who, path, s, !c.full, c.full)
				}
			}
			if !strings.Contains(body, `"next_due"`) || (!c.full && !strings.Contains(body, `"attention":true`)) {
				t.Errorf("%s %s: no attention flag and due date: %s", c.who, path, body)
			}
		}
		resp, m := f.do("GET", "/api/v1/people/"+p.ID+"/visits", c.token, nil, nil)
		switch {
		case c.full && resp.StatusCode != 200:
			t.Errorf("%s lists visits: %d %v", c.who, resp.StatusCode, m)
		case !c.full:
			expectProblem(t, c.who+" lists visits", resp, m, 403, "role")
		}
	}
	// The worker of another grid does not see the person at all.
	resp, m := f.do("GET", "/api/v1/people/"+p.ID, otherWorker, nil, nil)
	expectProblem(t, "worker of another grid", resp, m, 404, "id")
	// Only those who see the record record visits to the person.
	before := f.digest()
	resp, m = f.do("POST", "/api/v1/people/"+p.ID+"/visits", villageWorker, map[string]any{"at": "2026-11-01T02:00:00Z", "visitor": "网格员", "method": "home", "found": true}, nil)
	expectProblem(t, "a visit by a worker of another grid", resp, m, 403, "role")
	if f.digest() != before {
		t.Fatal("a refused visit changed the state")
	}
	if resp, m := f.do("POST", "/api/v1/people/"+p.ID+"/visits", ownWorker, map[string]any{"at": "2026-11-01T02:00:00Z", "visitor": "网格员", "method": "home", "found": true}, nil); resp.StatusCode != 201 {
		t.Fatalf("a visit by the grid's worker: %d %v", resp.StatusCode, m)
	}
}

// Visit notes are sealed when recorded and opened only for the roles that
// may reveal, with a purpose, as an audit record (issue 24): not the grid
// worker who wrote them, and not without a purpose.
func TestRevealVisitNotes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	grid := "511083001001001"
	p, err := f.b.s.People.Add(ctx, model.PersonInput{Name: "刘晓梅", IDNumber: validID(12), Kind: "registered", Jurisdiction: "511083001001", Grid: grid})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.s.People.SetSpecial(ctx, p.ID, model.SpecialInput{Category: model.SpecialReleased, Level: 1,
		Since: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Details: model.SpecialDetails{ReleaseDate: "2025-06-01"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.s.People.RecordVisit(ctx, p.ID, model.VisitInput{At: time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC), Visitor: "网格员", Method: "home", Found: true, Note: "家属在场，情绪稳定"}); err != nil {
		t.Fatal(err)
	}
	base := "/api/v1/people/" + p.ID + "/visits"
	resp, m := f.do("GET", base, f.town, nil, nil)
	if resp.StatusCode != 200 || strings.Contains(fmtJSON(m), "家属在场") {
		t.Fatalf("the plain list: %d %v", resp.StatusCode, m)
	}
	ownWorker := f.issue(access.GridWorker, grid)
	resp, m = f.do("GET", base+"?reveal=true&basis=visit&purpose=x", ownWorker, nil, nil)
	expectProblem(t, "a grid worker reveals", resp, m, 403, "reveal")
	before := f.digest()
	resp, m = f.do("GET", base+"?reveal=true", f.town, nil, nil)
	expectProblem(t, "a reveal without a legal basis and purpose", resp, m, 400, "basis")
	if f.digest() != before {
		t.Fatal("a refused reveal changed the state")
	}
	chain, _ := f.b.s.Engine().Digest() // the audit chain included
	var page revealedVisitsPage
	if resp, _ := f.do("GET", base+"?reveal=true&basis=visit&purpose=%E5%9B%9E%E8%AE%BF%E6%A0%B8%E5%AE%9E%E6%83%85%E5%86%B5", f.town, nil, &page); resp.StatusCode != 200 || len(page.Visits) != 1 || page.Visits[0].Note != "家属在场，情绪稳定" {
		t.Fatalf("the revealed list: %d %+v", resp.StatusCode, page)
	}
	if after, _ := f.b.s.Engine().Digest(); after == chain {
		t.Fatal("the reveal left no audit record")
	}
}

func fmtJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// A person is found by ID number only by the roles that may reveal, with a
// basis and purpose; every lookup is audited, found or not; one outside the
// caller's scope answers exactly as no person; the number never reaches a
// URL or the log (issue 24).
func TestLookupPersonByIDNumber(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	own, err := f.b.s.People.Add(ctx, model.PersonInput{Name: "张三", IDNumber: validID(31), Kind: "registered", Jurisdiction: "511083001001"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.s.People.Add(ctx, model.PersonInput{Name: "李四", IDNumber: validID(32), Kind: "registered", Jurisdiction: "511083002001"}); err != nil {
		t.Fatal(err)
	}
	ask := func(token, idn, basis string) (int, map[string]any, string) {
		resp := f.raw("POST", "/api/v1/people/lookup", token, map[string]any{"id_number": idn, "basis": basis, "purpose": "核实身份"})
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var m map[string]any
		json.Unmarshal(raw, &m)
		return resp.StatusCode, m, string(raw)
	}
	if st, m, _ := ask(f.town, validID(31), "visit"); st != 200 || m["id"] != own.ID || strings.Contains(fmtJSON(m), "张三") {
		t.Fatalf("a person in scope: %d %v", st, m)
	}
	st1, _, hidden := ask(f.town, validID(32), "visit")
	st2, _, missing := ask(f.town, validID(33), "visit")
	if st1 != 404 || st2 != 404 || hidden != missing {
		t.Fatalf("out of scope %d %s, missing %d %s", st1, hidden, st2, missing)
	}
	if st, m, _ := ask(f.issue(access.GridWorker, "511083001001001"), validID(31), "visit"); st != 403 || m["field"] != "role" {
		t.Fatalf("a grid worker: %d %v", st, m)
	}
	if st, m, _ := ask(f.town, validID(31), ""); st != 400 || m["field"] != "basis" {
		t.Fatalf("no basis: %d %v", st, m)
	}
	// The audit chain, read whole: three lookups, four with the refused
	// grid worker's denial aside, and no ID number anywhere in it.
	var chain strings.Builder
	for after := uint64(0); ; {
		recs, err := f.b.s.Engine().AuditPage(after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		chain.WriteString(fmtJSON(recs))
		after = recs[len(recs)-1].Seq
	}
	if n := strings.Count(chain.String(), `"kind":"lookup"`); n != 3 {
		t.Fatalf("%d lookups audited, want 3", n)
	}
	for _, idn := range []string{validID(31), validID(32), validID(33)} {
		if strings.Contains(f.logs.String(), idn) || strings.Contains(chain.String(), idn) {
			t.Fatal("an ID number reached the log or the audit")
		}
	}
}
