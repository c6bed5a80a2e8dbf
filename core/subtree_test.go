package core

import (
	"testing"

	"github.com/fengqiao/fengqiao/core/divisions"
)

// A city node holds its whole tree — every district and township, nodes
// or not — and resolves the retired codes inside it.
func TestCityHoldsItsWholeSubtreeAndAliases(t *testing.T) {
	e := newEnv(t, false)
	if err := e.Jurisdictions.LoadSubtree(e.ctx, "500000"); err != nil {
		t.Fatal(err)
	}
	sub, err := divisions.Subtree("500000")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range sub {
		if _, err := e.Jurisdictions.Get(d.Code); err != nil {
			t.Fatalf("%s %s is missing at the city: %v", d.Code, d.Name, err)
		}
	}
	kids, err := e.Jurisdictions.Children("500000")
	if err != nil || len(kids) < 30 {
		t.Fatalf("重庆市's districts: %d %v", len(kids), err)
	}
	// 梁平县 became 梁平区: the old code resolves at the city.
	if cur, err := e.Jurisdictions.Resolve("500228"); err != nil || cur != "500155" {
		t.Fatalf("500228 resolves to %q, %v", cur, err)
	}
	// Not an alias of another city's tree.
	if _, err := e.Jurisdictions.Resolve("511028"); err == nil {
		t.Fatal("the city resolves a code of another province's tree")
	}
}
