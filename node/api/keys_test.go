package api

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/fengqiao/fengqiao/core/keyfile"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// TestKeysRoutes: after a rotation the census counts the old generation's
// values, reseal passes move them to the current one, bad input is refused
// naming the field and changes nothing, and only node-wide admins may ask.
func TestKeysRoutes(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys.json")
	if err := keyfile.WriteNew(keys, ""); err != nil {
		t.Fatal(err)
	}
	e, err := state.OpenEngine(t.TempDir(), state.EngineOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := core.WithActor(context.Background(), "test")
	gen1, err := keyfile.Read(keys)
	if err != nil {
		t.Fatal(err)
	}
	old := core.New(e, state.NewLocal(e), core.Options{Keyring: gen1})
	t.Cleanup(func() { old.Close() })
	if _, err := old.Jurisdictions.LoadCounty(ctx, "511083", 1); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := old.People.Add(ctx, model.PersonInput{Name: "王秀兰", IDNumber: validID(30 + i), Kind: "registered", Jurisdiction: "511083001001"}); err != nil {
			t.Fatal(err)
		}
	}
	id, err := keyfile.AddKey(keys)
	if err != nil {
		t.Fatal(err)
	}
	if err := keyfile.UseKey(keys, id); err != nil {
		t.Fatal(err)
	}
	rotated, err := keyfile.Read(keys)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureOn(t, e, rotated)

	var c state.SealCensus
	if resp, m := f.do("GET", "/api/v1/keys", f.sys, nil, &c); resp.StatusCode != 200 || c.Current != 2 || c.Generations[1] != 6 || c.Indexes[0] != 3 || c.CurrentIndex != 2 || c.Old() != 9 {
		t.Fatalf("census: %d %+v %v", resp.StatusCode, c, m)
	}
	resp, m := f.do("GET", "/api/v1/keys", f.town, nil, nil)
	expectProblem(t, "township asks for the census", resp, m, 403, "role")
	resp, m = f.do("POST", "/api/v1/keys/reseal", f.audit, map[string]any{}, nil)
	expectProblem(t, "auditor reseals", resp, m, 403, "role")

	before := f.digest()
	for _, c := range []struct {
		body  any
		field string
	}{
		{map[string]any{"max": -1}, "max"},
		{map[string]any{"max": state.MaxResealItems + 1}, "max"},
		{map[string]any{"max": "all"}, "max"},
		{map[string]any{"limit": 5}, "limit"},
		{map[string]any{"after": "!!"}, "after"},
		{"", "body"},
	} {
		resp, m := f.do("POST", "/api/v1/keys/reseal", f.sys, c.body, nil)
		expectProblem(t, "reseal "+mustJSON(c.body), resp, m, 400, c.field)
	}
	if f.digest() != before {
		t.Fatal("a refused reseal changed the state")
	}

	var passes []core.ResealResult
	for after := ""; len(passes) < 10; {
		var r core.ResealResult
		if resp, m := f.do("POST", "/api/v1/keys/reseal", f.sys, map[string]any{"max": 4, "after": after}, &r); resp.StatusCode != 200 {
			t.Fatalf("reseal: %d %v", resp.StatusCode, m)
		}
		passes = append(passes, r)
		if after = r.Next; after == "" {
			break
		}
	}
	// Two values and an index a person, whole people a pass.
	if len(passes) != 3 || passes[0].Resealed != 3 || passes[1].Resealed != 3 || passes[2].Resealed != 3 {
		t.Fatalf("passes: %+v", passes)
	}
	c = state.SealCensus{}
	// Six people's values, and the four administrators' TOTP secrets the
	// fixture enrolled under generation 2.
	if resp, _ := f.do("GET", "/api/v1/keys", f.sys, nil, &c); resp.StatusCode != 200 || c.Old() != 0 || c.Generations[2] != 6+4 || c.Indexes[2] != 3 {
		t.Fatalf("census after reseal: %+v", c)
	}
}
