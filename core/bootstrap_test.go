package core

import (
	"errors"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/state"
)

// The bootstrap token is issued to a group with no tokens, once: a node
// restarted with FENGQIAO_TOKEN still set, after the token was revoked or
// expired, gets ErrBootstrapped and the group is unchanged.
func TestBootstrapTokenOnlyIntoANewGroup(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	spec := TokenSpec{Name: "bootstrap", Role: access.SecurityAdmin, Scope: "511083", Secret: "fq_bootstrap_secret_of_the_operator", TTL: time.Hour}
	// Bad input is refused before anything is proposed.
	bad := spec
	bad.Scope = "999999"
	if _, err := e.Tokens.Bootstrap(e.ctx, bad); !errors.Is(err, errs.ErrNotFound) || errs.Field(err) != "scope" {
		t.Fatalf("bad scope: %v", err)
	}
	is, err := e.Tokens.Bootstrap(e.ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if tk, err := e.Tokens.Authenticate(spec.Secret); err != nil || tk.ID != is.Token.ID || tk.Role != access.SecurityAdmin {
		t.Fatalf("the bootstrap token does not work: %+v %v", tk, err)
	}
	again := func(what string) {
		t.Helper()
		before := mustDigest(t, e.Engine())
		for _, s := range []TokenSpec{spec, {Name: "bootstrap", Role: access.SecurityAdmin, Scope: "511083", TTL: time.Hour}} {
			if _, err := e.Tokens.Bootstrap(e.ctx, s); !errors.Is(err, state.ErrBootstrapped) || !errors.Is(err, errs.ErrConflict) {
				t.Fatalf("%s: bootstrap again: %v", what, err)
			}
		}
		if mustDigest(t, e.Engine()) != before {
			t.Fatalf("%s: a refused bootstrap changed the state", what)
		}
	}
	again("live")
	if err := e.Tokens.Revoke(e.ctx, is.Token.ID); err != nil {
		t.Fatal(err)
	}
	again("revoked")
	// Issuing other tokens is unaffected.
	if _, _, err := e.Tokens.Create(e.ctx, "operator", access.TownshipOperator, "511083001", ""); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	if n, err := e.Tokens.Tidy(e.ctx, "511083", e.clock.Now()); err != nil || n != 1 {
		t.Fatalf("tidy: %d %v", n, err)
	}
	again("tidied")
}
