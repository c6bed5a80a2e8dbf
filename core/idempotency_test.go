package core

import (
	"errors"
	"strings"
	"testing"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

func TestIdempotentRetries(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	r := model.Report{Category: "dispute", Description: "x", Grid: "511083001001001"}
	ctx, err := WithIdempotencyKey(e.ctx, "tok-1:retry-42")
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.Events.Report(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	before := mustDigest(t, e.Engine())
	// The retry is refused, names the first event, and changes nothing.
	_, err = e.Events.Report(ctx, r)
	var dup *state.DuplicateError
	if !errors.As(err, &dup) || dup.Ref != first.ID || !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("retry: %v", err)
	}
	if mustDigest(t, e.Engine()) != before {
		t.Fatal("a refused retry changed the state")
	}
	// Another key, or no key, makes a new event.
	ctx2, _ := WithIdempotencyKey(e.ctx, "tok-1:retry-43")
	if ev, err := e.Events.Report(ctx2, r); err != nil || ev.ID == first.ID {
		t.Fatalf("second key: %v", err)
	}
	if _, err := e.Events.Report(e.ctx, r); err != nil {
		t.Fatal(err)
	}
	// Operations that propose many commands ignore the key.
	if n, err := e.Events.Import(ctx, []model.Report{r, r, r}, nil); err != nil || n != 3 {
		t.Fatalf("import under a key: %d %v", n, err)
	}
	if f, _ := e.Events.Figures("511083", "", ""); f.Reported != 6 {
		t.Fatalf("reported %d, want 6", f.Reported)
	}
	for _, bad := range []string{"", strings.Repeat("k", 201), "a\nb"} {
		if _, err := WithIdempotencyKey(e.ctx, bad); errs.Field(err) != "Idempotency-Key" {
			t.Errorf("key %q: %v", bad, err)
		}
	}
}
