package idcard

import (
	"errors"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
)

func valid(prefix17 string) string { return prefix17 + string(CheckDigit(prefix17)) }

func TestValidate(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC) }
	known := func(code string) bool { return code == "510107" || code == "500110" }
	c := Checker{KnownRegion: known, Now: now}
	good := valid("51010719900307123")
	if err := c.Validate(good); err != nil {
		t.Fatalf("valid id rejected: %v", err)
	}
	bad := []struct{ id, rule string }{
		{"5101071990030712", "length"},
		{"51010719900307A23" + "1", "digits"},
		{valid("51010719900230123"), "birth_date"},          // 30 February
		{valid("51010720300101123"), "birth_date"},          // future
		{valid("99999919900307123"), "region"},              // unknown region
		{good[:17] + string(flip(good[17])), "check_digit"}, // wrong check char
	}
	for _, b := range bad {
		err := c.Validate(b.id)
		var fe *errs.FieldError
		if !errors.As(err, &fe) || !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("%s: want typed invalid error, got %v", b.id, err)
		}
		if fe.Rule != b.rule || fe.Field != "id_number" {
			t.Fatalf("%s: rule %q field %q, want %q", b.id, fe.Rule, fe.Field, b.rule)
		}
	}
}

func flip(c byte) byte {
	if c == '0' {
		return '1'
	}
	return '0'
}

func TestKnownCheckDigit(t *testing.T) {
	// The worked example from GB 11643-1999 appendix: 11010519491231002X.
	if got := CheckDigit("11010519491231002"); got != 'X' {
		t.Fatalf("check digit = %c, want X", got)
	}
}

func TestMask(t *testing.T) {
	if got := Mask("51010719900307123X"); got != "5101**********123X" {
		t.Fatalf("mask = %s", got)
	}
}

func FuzzValidate(f *testing.F) {
	f.Add("11010519491231002X")
	f.Add("51010719900307123x")
	f.Add("")
	f.Add("5101071990023012３")
	c := Checker{Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }}
	f.Fuzz(func(t *testing.T, id string) {
		err := c.Validate(id)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		// Anything accepted must re-verify its own check digit.
		if CheckDigit(id[:17]) != Normalize(id)[17] {
			t.Fatalf("accepted %q with a wrong check digit", id)
		}
	})
}
