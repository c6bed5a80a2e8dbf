package core

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

func TestSearchEvents(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	report := func(grid, text string) string {
		t.Helper()
		ev, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: text, Grid: grid})
		if err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	gA, gB := villageA+"001", villageB+"001"
	e1 := report(gA, "楼道堆物影响通行")
	e2 := report(gB, "邻里纠纷，楼道噪音扰民")
	e3 := report(gA, "道路积水")
	ids := func(p model.Page) []string {
		var out []string
		for _, ev := range p.Events {
			out = append(out, ev.ID)
		}
		return out
	}
	search := func(q SearchQuery) []string {
		t.Helper()
		p, err := e.Events.Search(q)
		if err != nil {
			t.Fatal(err)
		}
		return ids(p)
	}
	if got := search(SearchQuery{Text: "楼道"}); !slices.Equal(got, []string{e2, e1}) {
		t.Fatalf("楼道: %v", got)
	}
	if got := search(SearchQuery{Text: "楼道", Under: townA}); !slices.Equal(got, []string{e1}) {
		t.Fatalf("楼道 in A: %v", got)
	}
	// A note added later is found, once the index catches up with the feed.
	if _, err := e.Events.Act(e.ctx, e3, model.Action{Action: "comment", Note: "楼道口也有积水"}); err != nil {
		t.Fatal(err)
	}
	if got := search(SearchQuery{Text: "楼道口"}); !slices.Equal(got, []string{e3}) {
		t.Fatalf("楼道口 from a note: %v", got)
	}
	// A phrase is confirmed: every bigram of 楼道积水 is nowhere together.
	if got := search(SearchQuery{Text: "楼道积水"}); len(got) != 0 {
		t.Fatalf("楼道积水: %v", got)
	}
	if got := search(SearchQuery{Text: "楼道", Status: model.StatusReported, Category: "dispute"}); len(got) != 3 {
		t.Fatalf("楼道 reported disputes: %v", got)
	}
	if got := search(SearchQuery{Text: "楼道", Category: "sanitation"}); len(got) != 0 {
		t.Fatalf("楼道 sanitation: %v", got)
	}
	// Time bounds and pages.
	ev1, _ := e.Events.Get(e1)
	if got := search(SearchQuery{Text: "楼道", To: ev1.ReportedAt.Add(time.Second)}); !slices.Equal(got, []string{e1}) {
		t.Fatalf("楼道 to e1: %v", got)
	}
	p, err := e.Events.Search(SearchQuery{Text: "楼道", Limit: 1})
	if err != nil || len(p.Events) != 1 || p.Next == "" {
		t.Fatalf("page 1: %v %v", p, err)
	}
	p2, err := e.Events.Search(SearchQuery{Text: "楼道", Limit: 1, After: p.Next})
	if err != nil || len(p2.Events) != 1 || p2.Events[0].ID == p.Events[0].ID {
		t.Fatalf("page 2: %v %v", p2, err)
	}
	for _, bad := range []string{"楼", " 楼 ", "，，", string(make([]rune, 101))} {
		if _, err := e.Events.Search(SearchQuery{Text: bad}); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "q" {
			t.Fatalf("query %q: %v", bad, err)
		}
	}
	// A fresh store over the same state builds the index from the events.
	e.search.idx = nil
	if got := search(SearchQuery{Text: "楼道口"}); !slices.Equal(got, []string{e3}) {
		t.Fatalf("rebuilt: %v", got)
	}
}
