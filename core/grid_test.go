package core

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/divisions"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

func TestGridLifecycleAndLocate(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	bounds, derived, err := e.Jurisdictions.Bounds("511083001001")
	if err != nil || !derived {
		t.Fatalf("village bounds: %v derived=%v", err, derived)
	}
	cell := bounds[0][0]
	x0, y0, x1, y1 := cell[0][0], cell[0][1], cell[2][0], cell[2][1]
	// The 4 derived grids fill the cell; carve nothing new inside it, but a
	// grid in another village can be replaced by retiring and re-creating.
	geom := fmt.Sprintf(`{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}}`,
		x0, y0, (x0+x1)/2, y0, (x0+x1)/2, (y0+y1)/2, x0, (y0+y1)/2, x0, y0)
	if err := e.Grids.Retire(e.ctx, "511083001001001", "合并重划"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Grids.Locate((3*x0+x1)/4, (3*y0+y1)/4); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("retired grid still located: %v", err)
	}
	g, err := e.Grids.Create(e.ctx, model.GridSpec{Code: "511083001001101", Name: "学校专属网格", Jurisdiction: "511083001001",
		Type: model.GridDedicated, Dedicated: "school", Duties: []string{"comprehensive", "emergency", "comprehensive"}, Geometry: []byte(geom)})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Duties) != 2 {
		t.Fatalf("duties not deduplicated: %v", g.Duties)
	}
	got, err := e.Grids.Locate((3*x0+x1)/4, (3*y0+y1)/4)
	if err != nil || got.Code != "511083001001101" {
		t.Fatalf("locate: %v %v", got, err)
	}
	if err := e.Grids.PutWorker(e.ctx, model.Worker{ID: "w1", Name: "李网格", Jurisdiction: "511083001001"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Grids.PutWorker(e.ctx, model.Worker{ID: "w2", Name: "王网格", Jurisdiction: "511083001001"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Grids.Assign(e.ctx, g.Code, "w1", model.RoleGridLeader); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Grids.Assign(e.ctx, g.Code, "w2", model.RoleGridLeader); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("two leaders: %v", err)
	}
	g, err = e.Grids.Assign(e.ctx, g.Code, "w2", model.RoleFullTime)
	if err != nil || len(g.Workers) != 2 {
		t.Fatalf("assign: %+v %v", g, err)
	}
	list, next, err := e.Grids.List("511083001", "", 3)
	if err != nil || len(list) != 3 || next == "" {
		t.Fatalf("list: %d %q %v", len(list), next, err)
	}
	list2, _, _ := e.Grids.List("511083001", next, 3)
	if list2[0].Code <= list[2].Code {
		t.Fatal("cursor did not advance")
	}
}

func TestGridBadInput(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	before := mustDigest(t, e.Engine())
	sq := func(x, y, s float64) string {
		return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}`, x, y, x+s, y, x+s, y+s, x, y+s, x, y)
	}
	b, _, _ := e.Jurisdictions.Bounds("511083001001")
	x, y := b[0][0][0][0], b[0][0][0][1]
	inside := sq(x, y, 0.0001)
	cases := []struct {
		spec  model.GridSpec
		field string
		rule  string
	}{
		{model.GridSpec{Code: "511083001001201", Name: "a", Jurisdiction: "511083001001", Geometry: []byte(`{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}`)}, "geometry.coordinates[0]", "self_intersection"},
		{model.GridSpec{Code: "511083001001201", Name: "a", Jurisdiction: "511083001001", Geometry: []byte(`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`)}, "geometry.coordinates[0]", "unclosed"},
		{model.GridSpec{Code: "511083001001201", Name: "a", Jurisdiction: "511083001001", Geometry: []byte(sq(100, 20, 0.01))}, "geometry", "outside_parent"},
		{model.GridSpec{Code: "511083001002201", Name: "a", Jurisdiction: "511083001001", Geometry: []byte(inside)}, "code", "format"},
		{model.GridSpec{Code: "511083001001201", Name: "", Jurisdiction: "511083001001", Geometry: []byte(inside)}, "name", "required"},
		{model.GridSpec{Code: "511083001001201", Name: "a", Jurisdiction: "511083001001", Type: "huge", Geometry: []byte(inside)}, "type", "enum"},
		{model.GridSpec{Code: "511083001001201", Name: "a", Jurisdiction: "511083001001", Type: model.GridDedicated, Geometry: []byte(inside)}, "dedicated", "enum"},
		{model.GridSpec{Code: "511083001001201", Name: "a", Jurisdiction: "511083001001", Duties: []string{"tax"}, Geometry: []byte(inside)}, "duties[0]", "enum"},
		{model.GridSpec{Code: "511083001001001", Name: "a", Jurisdiction: "511083001001", Geometry: []byte(inside)}, "code", "exists"},
		{model.GridSpec{Code: "511083999999001", Name: "a", Jurisdiction: "511083999999", Geometry: []byte(inside)}, "jurisdiction", "not_found"},
	}
	for i, c := range cases {
		_, err := e.Grids.Create(e.ctx, c.spec)
		var fe *errs.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || fe.Rule != c.rule {
			t.Errorf("case %d: want %s/%s, got %v", i, c.field, c.rule, err)
		}
	}
	if _, err := e.Grids.Locate(181, 0); errs.Field(err) != "location.lng" {
		t.Fatalf("bad longitude: %v", err)
	}
	if after := mustDigest(t, e.Engine()); after != before {
		t.Fatal("rejected grids changed the state")
	}
}

func TestJurisdictions(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	j, err := e.Jurisdictions.Get("511028")
	if err != nil || j.Code != "511083" || j.Name != "隆昌市" {
		t.Fatalf("alias: %+v %v", j, err)
	}
	kids, _ := e.Jurisdictions.Children("511083")
	if len(kids) < 10 || kids[0].Tier != "township" {
		t.Fatalf("children: %d", len(kids))
	}
	anc, _ := e.Jurisdictions.Ancestors("511083001001")
	if len(anc) != 4 || anc[0].Code != "510000" || anc[3].Code != "511083001" {
		t.Fatalf("ancestors: %+v", anc)
	}
	found, _ := e.Jurisdictions.Search("古湖", "township", "511083", 10)
	if len(found) != 1 || found[0].Code != "511083001" {
		t.Fatalf("search: %+v", found)
	}
	if _, err := e.Jurisdictions.Get("999999"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	before := mustDigest(t, e.Engine())
	err = e.Jurisdictions.Load(e.ctx, []divisions.Division{{Code: "51108300100", Name: "x", Parent: "511083001", Tier: "village"}}, nil)
	if errs.Field(err) != "divisions[0].code" {
		t.Fatalf("bad code: %v", err)
	}
	err = e.Jurisdictions.Load(e.ctx, []divisions.Division{{Code: "500110001001", Name: "x", Parent: "511083001", Tier: "village"}}, nil)
	if errs.Field(err) != "divisions[0].parent" {
		t.Fatalf("code outside parent: %v", err)
	}
	if mustDigest(t, e.Engine()) != before {
		t.Fatal("rejected load changed the state")
	}
}

func TestConcurrentReportsShareCommits(t *testing.T) {
	e := newEnv(t, true)
	e.withCounty(t)
	var wg sync.WaitGroup
	errc := make(chan error, 64)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if _, err := e.Events.Report(context.Background(), model.Report{Category: "dispute", Description: "x", Grid: "511083001001002"}); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	f, _ := e.Events.Figures("511083001001", "", "")
	if f.Reported != 640 {
		t.Fatalf("reported %d, want 640", f.Reported)
	}
	p, _ := e.Events.List(model.Query{Grid: "511083001001002", Limit: 500})
	ids := map[string]bool{}
	for _, ev := range p.Events {
		ids[ev.ID] = true
	}
	if len(ids) != 500 {
		t.Fatalf("duplicate event numbers: %d unique in a page of 500", len(ids))
	}
}

func TestLoadWholeCountry(t *testing.T) {
	e := newEnv(t, false)
	if err := e.Jurisdictions.LoadAll(e.ctx); err != nil {
		t.Fatal(err)
	}
	towns, err := e.Jurisdictions.Search("", "township", "", 1000)
	if err != nil || len(towns) != 1000 {
		t.Fatalf("township search: %d %v", len(towns), err)
	}
	n := 0
	for _, prov := range []string{"110000", "500000", "510000", "650000"} {
		kids, err := e.Jurisdictions.Children(prov)
		if err != nil || len(kids) == 0 {
			t.Fatalf("%s children: %d %v", prov, len(kids), err)
		}
		n += len(kids)
	}
	// 重庆市 hangs its 38 districts and counties directly under the municipality.
	cq, _ := e.Jurisdictions.Children("500000")
	if len(cq) != 38 || cq[0].Tier != "county" {
		t.Fatalf("重庆市 children: %d, first %+v", len(cq), cq[0])
	}
	if j, err := e.Jurisdictions.Get("511028"); err != nil || j.Name != "隆昌市" {
		t.Fatalf("alias after full load: %+v %v", j, err)
	}
	hits, _ := e.Jurisdictions.Search("武侯", "county", "", 10)
	if len(hits) != 1 || hits[0].Code != "510107" {
		t.Fatalf("name search: %+v", hits)
	}
	if _, err := e.Jurisdictions.Search("x", "", "999999", 10); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("search under unknown code: %v", err)
	}
}

func TestListsRejectUnknownScope(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	if _, _, err := e.Grids.List("999999", "", 10); errs.Field(err) != "under" || !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("grids: %v", err)
	}
	if _, _, err := e.Party.Orgs("999999", "", 0); errs.Field(err) != "under" {
		t.Fatalf("orgs: %v", err)
	}
	if _, _, err := e.Party.Coverage("511083999"); errs.Field(err) != "under" {
		t.Fatalf("coverage: %v", err)
	}
	if _, _, err := e.People.List("511083001001999", "", 10); errs.Field(err) != "under" {
		t.Fatalf("people under an unknown grid: %v", err)
	}
	if _, err := e.People.DueVisits("12", time.Now(), 10); errs.Field(err) != "under" {
		t.Fatalf("due visits: %v", err)
	}
	// Known scopes, including a retired code and a grid, work.
	if gs, _, err := e.Grids.List("511028", "", 1000); err != nil || len(gs) != 924 {
		t.Fatalf("grids under the retired code: %d %v", len(gs), err)
	}
	if _, _, err := e.People.List("511083001001001", "", 10); err != nil {
		t.Fatalf("people under a grid: %v", err)
	}
}

// The spatial index belongs to the Grids service and follows the engine:
// a grid retired through another store over the same engine (a follower's
// apply, say) leaves this store's index at its next lookup.
func TestGridIndexFollowsTheEngine(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	other := New(e.Engine(), state.NewLocal(e.Engine()), Options{Keyring: testKeyring(t)})
	defer other.Close()
	g, err := e.Grids.Get("511083001001001")
	if err != nil {
		t.Fatal(err)
	}
	c := g.Geometry.Bound().Center()
	if got, err := e.Grids.Locate(c[0], c[1]); err != nil || got.Code != g.Code {
		t.Fatalf("before: %v %v", got, err)
	}
	if err := other.Grids.Retire(WithActor(t.Context(), "other"), g.Code, "merged"); err != nil {
		t.Fatal(err)
	}
	if got, err := e.Grids.Locate(c[0], c[1]); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("a retired grid is still located: %v %v", got, err)
	}
	ev, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "x", Location: &model.Point{Lng: c[0], Lat: c[1]}})
	if err == nil && ev.Grid == g.Code {
		t.Fatalf("a report was placed in the retired grid %s", ev.Grid)
	}
}
