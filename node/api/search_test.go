package api

import (
	"net/url"
	"testing"
	"time"
)

// Lists by text, by report time and by date range, and their bad input.
func TestEventSearchOverHTTP(t *testing.T) {
	f := newFixture(t)
	for _, r := range []map[string]any{
		{"category": "dispute", "description": "楼道堆物影响通行", "grid": "511083001001001"},
		{"category": "dispute", "description": "邻里纠纷，楼道噪音", "grid": "511083002001001"},
		{"category": "sanitation", "description": "道路积水", "grid": "511083001001001"},
	} {
		if resp, m := f.do("POST", "/api/v1/events", f.admin, r, nil); resp.StatusCode != 201 {
			t.Fatalf("report: %d %v", resp.StatusCode, m)
		}
	}
	list := func(token, query string) []string {
		t.Helper()
		var p struct {
			Events []struct {
				Description string `json:"description"`
			} `json:"events"`
		}
		if resp, m := f.do("GET", "/api/v1/events?"+query, token, nil, &p); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", query, resp.StatusCode, m)
		}
		var out []string
		for _, e := range p.Events {
			out = append(out, e.Description)
		}
		return out
	}
	q := url.QueryEscape
	if got := list(f.admin, "q="+q("楼道")); len(got) != 2 || got[0] != "邻里纠纷，楼道噪音" {
		t.Fatalf("楼道, newest first: %v", got)
	}
	// A township's token finds only its own.
	if got := list(f.town, "q="+q("楼道")); len(got) != 1 || got[0] != "楼道堆物影响通行" {
		t.Fatalf("楼道 in township A: %v", got)
	}
	if got := list(f.admin, "sort=oldest&category=dispute"); len(got) != 2 || got[0] != "楼道堆物影响通行" {
		t.Fatalf("oldest disputes: %v", got)
	}
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	if got := list(f.admin, "from="+today+"&to="+today); len(got) != 3 {
		t.Fatalf("today, by place: %v", got)
	}
	if got := list(f.admin, "to=2020-01-01"); len(got) != 0 {
		t.Fatalf("before 2020: %v", got)
	}
	for _, c := range []struct{ query, field string }{
		{"q=" + q("楼"), "q"},
		{"q=" + q("楼道") + "&overdue=true", "overdue"},
		{"q=" + q("楼道") + "&sort=place", "sort"},
		{"sort=sideways", "sort"},
		{"from=yesterday", "from"},
		{"from=2026-12-02&to=2026-12-01", "to"},
		{"mine=maybe", "mine"},
	} {
		resp, m := f.do("GET", "/api/v1/events?"+c.query, f.admin, nil, nil)
		expectProblem(t, c.query, resp, m, 400, c.field)
	}
}

// Figures for a date range count the events reported in it.
func TestStatsForADateRange(t *testing.T) {
	f := newFixture(t)
	for _, g := range []string{"511083001001001", "511083001001001", "511083002001001"} {
		if resp, m := f.do("POST", "/api/v1/events", f.admin, map[string]any{"category": "dispute", "description": "区间", "grid": g}, nil); resp.StatusCode != 201 {
			t.Fatalf("report: %d %v", resp.StatusCode, m)
		}
	}
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	var st stats
	if resp, m := f.do("GET", "/api/v1/stats?from="+today+"&to="+today, f.admin, nil, &st); resp.StatusCode != 200 || st.Reported != 3 || st.Source != "events" {
		t.Fatalf("today: %d %v %+v", resp.StatusCode, m, st)
	}
	f.do("GET", "/api/v1/stats?from="+today+"&jurisdiction=511083001", f.admin, nil, &st)
	if st.Reported != 2 {
		t.Fatalf("township A today: %+v", st)
	}
	f.do("GET", "/api/v1/stats?to=2020-01-01", f.admin, nil, &st)
	if st.Reported != 0 {
		t.Fatalf("before 2020: %+v", st)
	}
	resp, m := f.do("GET", "/api/v1/stats?from="+today+"&period=202612", f.admin, nil, nil)
	expectProblem(t, "from with period", resp, m, 400, "period")
	resp, m = f.do("GET", "/api/v1/stats?from=someday", f.admin, nil, nil)
	expectProblem(t, "a bad from", resp, m, 400, "from")
}
