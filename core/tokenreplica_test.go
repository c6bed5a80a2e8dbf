package core

import (
	"testing"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/model"
)

// A token issued at the city works at every node of its subtree, each
// holding only a hash under its own key; its revocation follows it down.
func TestTokensReplicateDownAndRevocationFollows(t *testing.T) {
	city := fedEnv(t, "511000", model.Link{Peer: "511083", Relation: model.RelChild})
	county := fedEnv(t, "511083", model.Link{Peer: "511000", Relation: model.RelParent}, model.Link{Peer: "511083001", Relation: model.RelChild})
	town := fedEnv(t, "511083001", model.Link{Peer: "511083", Relation: model.RelParent})
	down := func() {
		pump(t, city, county)
		pump(t, county, town)
	}
	is, err := city.Tokens.CreateWith(city.ctx, TokenSpec{Name: "网格员", Role: access.GridWorker, Scope: "511083001001", Person: "李网格", StaffNo: "WG-1"})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := city.Tokens.CreateWith(city.ctx, TokenSpec{Name: "管理员", Role: access.CenterAdmin, Scope: "511000"})
	if err != nil {
		t.Fatal(err)
	}
	down()
	for name, e := range map[string]*env{"county": county, "township": town} {
		tk, err := e.Tokens.Authenticate(is.Secret)
		if err != nil || tk.ID != is.Token.ID || tk.Scope != "511083001001" || tk.Origin != "511000" || tk.Person != "李网格" {
			t.Fatalf("%s: %+v %v", name, tk, err)
		}
		if tk.Hash == is.Token.Hash {
			t.Fatalf("%s holds the city's hash, not its own", name)
		}
		if _, err := e.Tokens.Authenticate(admin.Secret); err == nil {
			t.Fatalf("%s accepts an administrator's token from above (its second factor does not replicate)", name)
		}
	}
	// Revoked at the city, refused below.
	if err := city.Tokens.Revoke(city.ctx, is.Token.ID); err != nil {
		t.Fatal(err)
	}
	down()
	for name, e := range map[string]*env{"county": county, "township": town} {
		if _, err := e.Tokens.Authenticate(is.Secret); err == nil {
			t.Fatalf("%s still accepts the revoked token", name)
		}
	}
	// A token sent up from a child is refused: tokens come from above.
	_, err = county.Tokens.CreateWith(county.ctx, TokenSpec{Name: "x", Role: access.GridWorker, Scope: "511083001"})
	if err != nil {
		t.Fatal(err)
	}
	if n := pump(t, county, city); n != 0 {
		t.Fatalf("the county sent %d messages up", n)
	}
}
