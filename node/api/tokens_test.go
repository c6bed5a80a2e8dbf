package api

import (
	"context"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/access"
)

// A township admin tidies its own township's dead tokens, never another's;
// bad bodies and a cutoff in the future are refused and change nothing.
func TestTidyTokensOverHTTP(t *testing.T) {
	f := newFixture(t)
	ctx := core.WithActor(context.Background(), "test")
	townAdmin := f.issue(access.SecurityAdmin, "511083001")
	var dead []string
	for _, scope := range []string{"511083001", "511083001", "511083002"} {
		tk, _, err := f.b.s.Tokens.Create(ctx, "网格员", access.GridWorker, scope, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.b.s.Tokens.Revoke(ctx, tk.ID); err != nil {
			t.Fatal(err)
		}
		dead = append(dead, tk.ID)
	}
	before := f.digest()
	for _, c := range []struct {
		body         any
		status       int
		field, token string
	}{
		{map[string]any{"expired_before": time.Now().Add(time.Hour).Format(time.RFC3339)}, 400, "expired_before", townAdmin},
		{map[string]any{"expired_before": "yesterday"}, 400, "expired_before", townAdmin},
		{map[string]any{"older_than": "30d"}, 400, "older_than", townAdmin},
		{``, 400, "body", townAdmin},
		{map[string]any{}, 403, "role", f.audit},
	} {
		resp, m := f.do("POST", "/api/v1/tokens/tidy", c.token, c.body, nil)
		expectProblem(t, "tidy "+mustJSON(c.body), resp, m, c.status, c.field)
	}
	if f.digest() != before {
		t.Fatal("a refused tidy changed the state")
	}
	var out struct{ Removed int }
	if resp, m := f.do("POST", "/api/v1/tokens/tidy", townAdmin, map[string]any{}, &out); resp.StatusCode != 200 || out.Removed != 2 {
		t.Fatalf("tidy: %d %+v %v", resp.StatusCode, out, m)
	}
	for i, id := range dead {
		_, err := f.b.s.Tokens.Get(id)
		if gone := err != nil; gone != (i < 2) {
			t.Errorf("token %d (%s): gone %v", i, id, gone)
		}
	}
}
