package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// The generated document is valid OpenAPI, checked by a real validator,
// and every route has its request and response bodies described from the
// Go types its handler uses.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	raw, err := json.Marshal(Document())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document does not validate: %v", err)
	}
	for _, rt := range routes {
		bd, ok := bodies[rt.op]
		if !ok {
			t.Errorf("route %s %s (%s) has no bodies entry", rt.method, rt.path, rt.op)
			continue
		}
		if rt.path == pluginRoutes {
			continue // listed per plugin: TestOpenAPIListsPluginRoutes
		}
		op := doc.Paths.Find(rt.path).GetOperation(rt.method)
		if op == nil {
			t.Fatalf("%s %s is not in the document", rt.method, rt.path)
		}
		if (rt.method == "POST" || rt.method == "PATCH") && op.RequestBody == nil && rt.op != "restore" && !bd.noBody {
			t.Errorf("%s has no request body", rt.op)
		}
		if bd.out != nil {
			status := bd.status
			if status == 0 {
				status = 200
			}
			r := op.Responses.Status(status)
			if r == nil || r.Value.Content.Get("application/json") == nil || r.Value.Content.Get("application/json").Schema == nil {
				t.Errorf("%s: no JSON schema for its %d answer", rt.op, status)
			}
		}
	}
	for op := range bodies {
		found := false
		for _, rt := range routes {
			found = found || rt.op == op
		}
		if !found {
			t.Errorf("bodies describes %s, which is no route", op)
		}
	}
	// The event a report answers with is described field by field.
	ev := doc.Components.Schemas["Event"]
	if ev == nil || ev.Value.Properties["deadline"] == nil || ev.Value.Properties["ext"] == nil {
		t.Fatal("the Event schema lacks its fields")
	}
}

// Real answers match the document: a report, an event, a listing and the
// change feed, validated by kin-openapi against the schemas.
func TestOpenAPIMatchesRealAnswers(t *testing.T) {
	raw, _ := json.Marshal(Document())
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	var ev struct {
		ID string `json:"id"`
	}
	f.do("POST", "/api/v1/events", f.admin, map[string]any{"category": "dispute", "description": "文档", "grid": "511083001001001",
		"ext": map[string]any{"qijiang.risk": 2}}, &ev)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/events/" + ev.ID},
		{"GET", "/api/v1/events?jurisdiction=511083"},
		{"GET", "/api/v1/changes?limit=5"},
		{"GET", "/api/v1/stats?jurisdiction=511083"},
		{"GET", "/api/v1/jurisdictions/511083"},
		{"GET", "/api/v1/people?jurisdiction=511083"},
		{"GET", "/api/v1/categories"},
	} {
		resp := f.raw(c.method, c.path, f.admin, nil)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse("http://example" + c.path)
		req, _ := http.NewRequest(c.method, u.String(), nil)
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
			Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		out.SetBodyBytes(body)
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("%s %s (%d): the answer does not match the document: %v", c.method, c.path, resp.StatusCode, err)
		}
	}
}
