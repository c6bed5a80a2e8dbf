package core

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// Tidying deletes revoked tokens and those expired before the cutoff, under
// the given jurisdiction only; working tokens stay and keep working, and a
// cutoff in the future is refused without changing anything.
func TestTokenTidy(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	mk := func(name, scope string, ttl time.Duration) (*model.Token, string) {
		t.Helper()
		var tk *model.Token
		var secret string
		var err error
		if ttl == 0 {
			tk, secret, err = e.Tokens.Create(e.ctx, name, access.GridWorker, scope, "")
		} else {
			tk, secret, err = e.Tokens.CreateExpiring(e.ctx, name, access.GridWorker, scope, ttl)
		}
		if err != nil {
			t.Fatal(err)
		}
		return tk, secret
	}
	live, liveSecret := mk("长期", "511083001", 0)
	later, laterSecret := mk("一年", "511083001", 365*24*time.Hour)
	soon, soonSecret := mk("一小时", "511083001", time.Hour)
	revoked, _ := mk("已吊销", "511083001", 0)
	if err := e.Tokens.Revoke(e.ctx, revoked.ID); err != nil {
		t.Fatal(err)
	}
	otherTown, _ := mk("另一街道", "511083002", 0)
	if err := e.Tokens.Revoke(e.ctx, otherTown.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Tokens.Authenticate(soonSecret); err != nil { // cached while it works
		t.Fatal(err)
	}
	e.clock.Set(soon.ExpiresAt.Add(time.Minute))

	before := mustDigest(t, e.Engine())
	if _, err := e.Tokens.Tidy(e.ctx, "511083001", e.clock.Now().Add(time.Hour)); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "before" {
		t.Fatalf("a cutoff in the future: %v", err)
	}
	if _, err := e.Tokens.Tidy(e.ctx, "999999", e.clock.Now()); !errors.Is(err, errs.ErrNotFound) || errs.Field(err) != "under" {
		t.Fatalf("an unknown jurisdiction: %v", err)
	}
	if mustDigest(t, e.Engine()) != before {
		t.Fatal("a refused tidy changed the state")
	}

	n, err := e.Tokens.Tidy(e.ctx, "511083001", e.clock.Now())
	if err != nil || n != 2 {
		t.Fatalf("tidy: %d %v", n, err)
	}
	left := func(under string) []string {
		tks, _, err := e.Tokens.List(under, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, tk := range tks {
			ids = append(ids, tk.ID)
		}
		slices.Sort(ids)
		return ids
	}
	want := []string{live.ID, later.ID}
	slices.Sort(want)
	if got := left("511083001"); !slices.Equal(got, want) {
		t.Fatalf("left under 511083001: %v, want %v", got, want)
	}
	if got := left("511083002"); !slices.Equal(got, []string{otherTown.ID}) {
		t.Fatalf("another township's revoked token was tidied: %v", got)
	}
	for _, id := range []string{soon.ID, revoked.ID} {
		if _, err := e.Tokens.Get(id); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("token %s after tidy: %v", id, err)
		}
	}
	for _, s := range []string{liveSecret, laterSecret} {
		if _, err := e.Tokens.Authenticate(s); err != nil {
			t.Fatalf("a working token after tidy: %v", err)
		}
	}
	// No index still names a tidied token.
	e.Engine().View(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{state.BucketTokenHash, state.BucketTokenScope} {
			tx.Bucket(b).ForEach(func(k, v []byte) error {
				for _, id := range []string{soon.ID, revoked.ID} {
					if string(v) == id || bytes.HasSuffix(k, []byte("/"+id)) {
						t.Errorf("%s still names %s", b, id)
					}
				}
				return nil
			})
		}
		return nil
	})
	if _, err := e.Tokens.Authenticate(soonSecret); err == nil {
		t.Fatal("a tidied token still authenticates")
	}
	if n, err := e.Tokens.Tidy(e.ctx, "511083001", e.clock.Now()); err != nil || n != 0 {
		t.Fatalf("a second tidy: %d %v", n, err)
	}
}
