package api

import (
	"io"
	"strings"
	"testing"
)

// What trying the API found (issue 24): malformed escapes, unknown
// filters, nested unknown fields, array bodies and duplicate keys are each
// refused with 400 naming the parameter or field, and change nothing.
func TestInputHygiene(t *testing.T) {
	f := newFixture(t)
	before := f.digest()
	for _, c := range []struct {
		method, path, body, field string
	}{
		{"GET", "/api/v1/events?limit=%zz", "", "limit"},
		{"GET", "/api/v1/events?cursor=%%%", "", "cursor"},
		{"GET", "/api/v1/events?jurisdiction=511083;limit=5", "", "query"},
		{"GET", "/api/v1/events?category=no_such", "", "category"},
		{"GET", "/api/v1/stats?category=no_such", "", "category"},
		{"POST", "/api/v1/events", `{"category":"dispute","description":"x","location":{"lng":105.3,"lat":29.3,"alt":3}}`, "location.alt"},
		{"POST", "/api/v1/events", `{"category":"dispute","category":"fire_safety","description":"x","jurisdiction":"511083001"}`, "category"},
		{"POST", "/api/v1/events", `{"category":"dispute","description":"x","location":{"lng":105.3,"lng":1,"lat":29.3}}`, "location.lng"},
		{"POST", "/api/v1/events", `[{"category":"dispute"}]`, "body"},
		{"POST", "/api/v1/events", `{"category":"dispute","description":7,"jurisdiction":"511083001"}`, "description"},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		resp, m := f.do(c.method, c.path, f.admin, body, nil)
		expectProblem(t, c.method+" "+c.path+" "+c.body, resp, m, 400, c.field)
		if detail, _ := m["detail"].(string); strings.Contains(detail, "api.") || strings.Contains(detail, "model.") || strings.Contains(detail, "Go ") {
			t.Errorf("%s: the message names Go types: %q", c.body, detail)
		}
	}
	if f.digest() != before {
		t.Fatal("refused requests changed the state")
	}
	// What is well formed still passes.
	if resp, m := f.do("GET", "/api/v1/events?category=dispute&limit=5", f.admin, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("a known category: %d %v", resp.StatusCode, m)
	}
}

// /stats?grid= answers for the grid itself, not its county; a grid outside
// the token's scope answers exactly as a missing one.
func TestGridStats(t *testing.T) {
	f := newFixture(t)
	for _, g := range []string{"511083001001001", "511083001001001", "511083001001002", "511083002001001"} {
		if resp, m := f.do("POST", "/api/v1/events", f.admin, map[string]any{"category": "dispute", "description": "网格统计", "grid": g}, nil); resp.StatusCode != 201 {
			t.Fatalf("report in %s: %d %v", g, resp.StatusCode, m)
		}
	}
	var got stats
	if resp, _ := f.do("GET", "/api/v1/stats?grid=511083001001001", f.town, nil, &got); resp.StatusCode != 200 || got.Reported != 2 {
		t.Fatalf("the grid's figures: %d %+v", resp.StatusCode, got.Figures)
	}
	var county stats
	f.do("GET", "/api/v1/stats", f.admin, nil, &county)
	if county.Reported != 4 {
		t.Fatalf("the county's figures: %+v", county.Figures)
	}
	hidden := f.raw("GET", "/api/v1/stats?grid=511083002001001", f.town, nil)
	missing := f.raw("GET", "/api/v1/stats?grid=511083001001099", f.town, nil)
	hb, _ := io.ReadAll(hidden.Body)
	mb, _ := io.ReadAll(missing.Body)
	hidden.Body.Close()
	missing.Body.Close()
	if hidden.StatusCode != 404 || missing.StatusCode != 404 ||
		strings.ReplaceAll(string(hb), "511083002001001", "G") != strings.ReplaceAll(string(mb), "511083001001099", "G") {
		t.Fatalf("out of scope %d %s, missing %d %s", hidden.StatusCode, hb, missing.StatusCode, mb)
	}
	resp, m := f.do("GET", "/api/v1/stats?grid=511083001001001&category=dispute", f.town, nil, nil)
	expectProblem(t, "a grid by category", resp, m, 400, "category")
	resp, m = f.do("GET", "/api/v1/stats?grid=511083001001001&period=2026-11", f.town, nil, nil)
	expectProblem(t, "a malformed period", resp, m, 400, "period")
}
