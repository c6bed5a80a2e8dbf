package core

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

func TestTokens(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	tk, secret, err := e.Tokens.Create(e.ctx, "古湖街道综治办", access.TownshipOperator, "511083001", "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Tokens.Authenticate(secret)
	if err != nil || got.ID != tk.ID || got.Role != access.TownshipOperator {
		t.Fatalf("authenticate: %+v %v", got, err)
	}
	if !got.Covers("511083001001001") || got.Covers("511083002001") || got.Covers("511083") {
		t.Fatal("scope check wrong")
	}
	if _, err := e.Tokens.Authenticate(secret + "x"); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("wrong secret: %v", err)
	}
	before := mustDigest(t, e.Engine())
	for _, bad := range []struct{ role, scope, field string }{{"root", "511083", "role"}, {access.DepartmentHandler, "999999", "scope"}} {
		if _, _, err := e.Tokens.Create(e.ctx, "x", bad.role, bad.scope, ""); errs.Field(err) != bad.field {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if _, _, err := e.Tokens.Create(e.ctx, "x", access.DepartmentHandler, "511083", "short"); errs.Field(err) != "secret" {
		t.Fatalf("short secret: %v", err)
	}
	if mustDigest(t, e.Engine()) != before {
		t.Fatal("rejected token changed the state")
	}
	if err := e.Tokens.Revoke(e.ctx, tk.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Tokens.Authenticate(secret); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("revoked token still works: %v", err)
	}
	if err := e.Tokens.Revoke(e.ctx, tk.ID); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("double revoke: %v", err)
	}
	e.Close()
	raw, _ := os.ReadFile(filepath.Join(e.dir, "state.db"))
	if bytes.Contains(raw, []byte(secret)) {
		t.Fatal("the token secret is stored in the clear")
	}
}

// A cached token must die with its revocation, with its state (a restore to
// before it existed), and never come back from a lookup that raced the
// revoke.
func TestTokenCacheInvalidation(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	var before bytes.Buffer
	if _, err := e.Engine().Snapshot(&before); err != nil {
		t.Fatal(err)
	}
	_, secret, err := e.Tokens.Create(e.ctx, "restore", access.DepartmentHandler, "511083", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Tokens.Authenticate(secret); err != nil {
		t.Fatal(err)
	}
	if err := e.Engine().Restore(bytes.NewReader(before.Bytes())); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Tokens.Authenticate(secret); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("token from after the restored snapshot still works: %v", err)
	}

	for i := range 50 {
		tk, secret, err := e.Tokens.Create(e.ctx, "race", access.DepartmentHandler, "511083", "")
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
					e.Tokens.Authenticate(secret)
				}
			}
		}()
		err = e.Tokens.Revoke(e.ctx, tk.ID)
		close(stop)
		<-done
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Tokens.Authenticate(secret); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("round %d: revoked token authenticated from the cache: %v", i, err)
		}
	}
}

func TestTokenCacheRefusesStaleFill(t *testing.T) {
	var c tokenCache
	c.put(1, "h", model.Token{ID: "tok-0"})
	if _, ok := c.get(2, "h"); ok { // a revoke committed: generation 2
		t.Fatal("an entry from before the change was served")
	}
	c.put(1, "h", model.Token{ID: "tok-1"}) // a lookup that began before it
	if _, ok := c.get(2, "h"); ok {
		t.Fatal("a lookup from before the change was cached")
	}
	c.put(2, "h", model.Token{ID: "tok-1"})
	if tk, ok := c.get(2, "h"); !ok || tk.ID != "tok-1" {
		t.Fatal("a current lookup was not cached")
	}
}

// A listing by scope pages through its subtree's tokens only, by scope and
// then id, and refuses a cursor from another subtree's listing.
func TestTokensListByScope(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	want := map[string][]string{}
	for i := 0; i < 6; i++ {
		scope := []string{"511083001", "511083002", "511083001001"}[i%3]
		tk, _, err := e.Tokens.Create(e.ctx, "综治办", access.TownshipOperator, scope, "")
		if err != nil {
			t.Fatal(err)
		}
		want[scope] = append(want[scope], tk.ID)
	}
	for _, ids := range want {
		slices.Sort(ids)
	}
	list := func(under string) func(string, int) ([]string, string, error) {
		return idsOf(func(after string, limit int) ([]model.Token, string, error) {
			return e.Tokens.List(under, after, limit)
		}, func(tk model.Token) string { return tk.ID })
	}
	town := append(slices.Clone(want["511083001"]), want["511083001001"]...)
	for _, limit := range []int{1, 3, 100} {
		if got := walk(t, limit, list("511083001")); !slices.Equal(got, town) {
			t.Fatalf("tokens under 511083001, pages of %d: %v, want %v", limit, got, town)
		}
	}
	if got := walk(t, 2, list("511083002")); !slices.Equal(got, want["511083002"]) {
		t.Fatalf("tokens under 511083002: %v, want %v", got, want["511083002"])
	}
	_, other, err := e.Tokens.List("511083002", "", 1)
	if err != nil || other == "" {
		t.Fatalf("511083002 first page: %q %v", other, err)
	}
	if _, _, err := e.Tokens.List("511083001", other, 1); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "cursor" {
		t.Fatalf("a cursor from another township's listing: %v", err)
	}
}

// A token issued with a lifetime works until it ends, by the store's clock,
// also once cached; a lifetime out of range is refused and changes nothing.
func TestTokenExpiry(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	tk, secret, err := e.Tokens.CreateExpiring(e.ctx, "临时巡查", access.GridWorker, "511083001", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// The fake clock ticks a second per reading: the lifetime starts when
	// the request is made, a tick or two before the command's time.
	if tk.ExpiresAt == nil || tk.ExpiresAt.Sub(tk.CreatedAt) > time.Hour || tk.ExpiresAt.Sub(tk.CreatedAt) < time.Hour-5*time.Second {
		t.Fatalf("expires at %v, created %v", tk.ExpiresAt, tk.CreatedAt)
	}
	if _, err := e.Tokens.Authenticate(secret); err != nil { // now cached
		t.Fatalf("a live token: %v", err)
	}
	e.clock.Set(tk.ExpiresAt.Add(-2 * time.Second)) // the next reading is a second on
	if _, err := e.Tokens.Authenticate(secret); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	e.clock.Set(tk.ExpiresAt.Add(-time.Second))
	_, err = e.Tokens.Authenticate(secret)
	var fe *errs.FieldError
	if !errors.Is(err, errs.ErrForbidden) || !errors.As(err, &fe) || fe.Rule != "expired" {
		t.Fatalf("at expiry: %v", err)
	}
	// Without a lifetime a token does not expire.
	_, forever, err := e.Tokens.Create(e.ctx, "长期", access.DepartmentHandler, "511083", "")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Set(e.clock.Now().Add(50 * 365 * 24 * time.Hour))
	if _, err := e.Tokens.Authenticate(forever); err != nil {
		t.Fatalf("a token without a lifetime: %v", err)
	}

	before := mustDigest(t, e.Engine())
	for _, ttl := range []time.Duration{0, -time.Hour, model.MaxTokenTTL + time.Second} {
		if _, _, err := e.Tokens.CreateExpiring(e.ctx, "x", access.DepartmentHandler, "511083", ttl); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "ttl" {
			t.Errorf("ttl %v: %v", ttl, err)
		}
	}
	// A command whose expiry is not after its own time (forged, or replayed
	// from a skewed clock) is refused in apply, the same on every replica.
	past := e.clock.Now().UTC().Add(-time.Minute)
	stale := model.Token{ID: "tok-stale", Name: "x", Role: access.DepartmentHandler, Scope: "511083", Hash: state.HashSecret("fq_stale_secret_0123456789"), ExpiresAt: &past}
	if _, err := applyAs[*model.Token](e.ctx, e.Store, "token.create", "511083", stale); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "expires_at" {
		t.Fatalf("an already expired token: %v", err)
	}
	if mustDigest(t, e.Engine()) != before {
		t.Fatal("a refused token changed the state")
	}
}
