package workcal

import (
	"errors"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, CST)
	if err != nil {
		panic(err)
	}
	return t
}

func TestAddSkipsWeekendsAndHolidays(t *testing.T) {
	c := &Calendar{Holidays: []string{"2026-10-01", "2026-10-02"}, Workdays: []string{"2026-10-10"}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		from string
		d    time.Duration
		want string
	}{
		{"2026-11-20 10:00", 24 * time.Hour, "2026-11-23 10:00"}, // Friday + 1 working day = Monday
		{"2026-11-21 10:00", 2 * time.Hour, "2026-11-23 02:00"},  // Saturday: clock starts Monday
		{"2026-09-30 12:00", 24 * time.Hour, "2026-10-05 12:00"}, // two holidays + weekend skipped
		{"2026-10-09 12:00", 24 * time.Hour, "2026-10-10 12:00"}, // Saturday 10th is a 调休 workday
	}
	for _, tc := range cases {
		if got := c.Add(at(tc.from), tc.d); !got.Equal(at(tc.want)) {
			t.Errorf("Add(%s, %v) = %s, want %s", tc.from, tc.d, got.Format("2006-01-02 15:04"), tc.want)
		}
	}
	// Between is Add's inverse on workdays.
	from := at("2026-09-28 09:30")
	for _, d := range []time.Duration{time.Hour, 30 * time.Hour, 100 * time.Hour} {
		if got := c.Between(from, c.Add(from, d)); got != d {
			t.Errorf("Between(Add(%v)) = %v", d, got)
		}
	}
}

func TestValidate(t *testing.T) {
	c := &Calendar{Holidays: []string{"2026-13-01"}}
	if err := c.Validate(); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "holidays[0]" {
		t.Fatalf("bad date: %v", err)
	}
	c = &Calendar{Holidays: []string{"2026-10-01"}, Workdays: []string{"2026-10-01"}}
	if err := c.Validate(); errs.Field(err) != "workdays[0]" {
		t.Fatalf("overlap: %v", err)
	}
}
