package api

import (
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
