// Package idcard validates and masks citizen ID numbers (公民身份号码, GB 11643-1999).
//
// The number is 18 characters: a 6-digit region code (GB/T 2260), an 8-digit
// birth date, a 3-digit sequence and an ISO 7064 MOD 11-2 check character.
package idcard

import (
	"strings"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
)

var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const checkChars = "10X98765432"

// CheckDigit returns the GB 11643 check character for the first 17 digits.
// The caller guarantees first17 is 17 ASCII digits.
func CheckDigit(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * weights[i]
	}
	return checkChars[sum%11]
}

// Checker validates ID numbers. The zero value checks structure, date and
// check digit but not the region.
type Checker struct {
	// KnownRegion reports whether a 6-digit code is a known region. Nil skips the check.
	KnownRegion func(code string) bool
	// Now bounds birth dates from above; nil means time.Now.
	Now func() time.Time
}

// Validate checks id and says which rule failed. The field name is "id_number".
func (c Checker) Validate(id string) error {
	const f = "id_number"
	if len(id) != 18 {
		return errs.Invalid(f, "length", "must be 18 characters, got %d", len(id))
	}
	for i := 0; i < 17; i++ {
		if id[i] < '0' || id[i] > '9' {
			return errs.Invalid(f, "digits", "character %d must be a digit", i+1)
		}
	}
	last := id[17]
	if last == 'x' {
		last = 'X'
	}
	if (last < '0' || last > '9') && last != 'X' {
		return errs.Invalid(f, "digits", "character 18 must be a digit or X")
	}
	birth, err := time.Parse("20060102", id[6:14])
	if err != nil {
		return errs.Invalid(f, "birth_date", "characters 7–14 are not a real birth date")
	}
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	if birth.Year() < 1900 || birth.After(now) {
		return errs.Invalid(f, "birth_date", "birth date is before 1900 or in the future")
	}
	if c.KnownRegion != nil && !c.KnownRegion(id[:6]) {
		return errs.Invalid(f, "region", "characters 1–6 are not a known region code")
	}
	if want := CheckDigit(id[:17]); want != last {
		return errs.Invalid(f, "check_digit", "check character does not match")
	}
	return nil
}

// Normalize upper-cases the check character so equal numbers compare equal.
func Normalize(id string) string { return strings.ToUpper(strings.TrimSpace(id)) }

// Mask keeps the first and last four characters: 5101**********123X.
func Mask(id string) string {
	if len(id) < 8 {
		return strings.Repeat("*", len(id))
	}
	return id[:4] + strings.Repeat("*", len(id)-8) + id[len(id)-4:]
}
