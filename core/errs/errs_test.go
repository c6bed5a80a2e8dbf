package errs

import (
	"errors"
	"fmt"
	"testing"
)

func TestKinds(t *testing.T) {
	err := fmt.Errorf("report: %w", Illegal("sign", "reported"))
	if !errors.Is(err, ErrIllegalTransition) || !errors.Is(err, ErrConflict) {
		t.Fatalf("illegal transition should match both kinds: %v", err)
	}
	if errors.Is(err, ErrInvalid) {
		t.Fatal("illegal transition must not match ErrInvalid")
	}
	if Field(err) != "action" {
		t.Fatalf("field = %q", Field(err))
	}
	inv := Invalid("location.lng", "range", "out of range")
	if !errors.Is(inv, ErrInvalid) || Field(inv) != "location.lng" {
		t.Fatalf("bad invalid error: %v", inv)
	}
	if Field(errors.New("plain")) != "" {
		t.Fatal("plain error has no field")
	}
}
