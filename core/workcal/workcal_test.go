package workcal

import (
	"errors"
	"math/rand/v2"
	"slices"
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

// refAdd and refBetween are the straightforward time.Date forms that the
// day-number arithmetic replaced; the two must agree to the nanosecond.
func refWorkday(c *Calendar, t time.Time) bool {
	d := t.In(CST).Format(time.DateOnly)
	if slices.Contains(c.Workdays, d) {
		return true
	}
	if slices.Contains(c.Holidays, d) {
		return false
	}
	wd := t.In(CST).Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

func refStartOfDay(t time.Time) time.Time {
	y, m, d := t.In(CST).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, CST)
}

func refAdd(c *Calendar, t time.Time, d time.Duration) time.Time {
	cur := t.In(CST)
	for d > 0 {
		next := refStartOfDay(cur).AddDate(0, 0, 1)
		if !refWorkday(c, cur) {
			cur = next
			continue
		}
		if left := next.Sub(cur); d <= left {
			return cur.Add(d)
		}
		d -= next.Sub(cur)
		cur = next
	}
	return cur
}

func refBetween(c *Calendar, a, b time.Time) time.Duration {
	var total time.Duration
	cur := a.In(CST)
	for cur.Before(b) {
		next := refStartOfDay(cur).AddDate(0, 0, 1)
		end := next
		if b.Before(end) {
			end = b
		}
		if refWorkday(c, cur) {
			total += end.Sub(cur)
		}
		cur = next
	}
	return total
}

func TestDayArithmeticMatchesTimeDate(t *testing.T) {
	c := &Calendar{Holidays: []string{"2026-10-01", "2026-10-02", "2026-10-05", "1969-12-31"}, Workdays: []string{"2026-09-27", "2026-10-10"}}
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 9, 20, 0, 0, 0, 0, time.UTC)
	for i := range 20000 {
		at := base.Add(time.Duration(rng.Int64N(int64(40 * 24 * time.Hour))))
		if i%100 == 0 {
			at = time.Date(1969, 12, 30, 23, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(72 * time.Hour))))
		}
		d := time.Duration(rng.Int64N(int64(10 * 24 * time.Hour)))
		got, want := c.Add(at, d), refAdd(c, at, d)
		if !got.Equal(want) || got.Location().String() != want.Location().String() {
			t.Fatalf("Add(%v, %v) = %v, want %v", at, d, got, want)
		}
		later := at.Add(d)
		if g, w := c.Between(at, later), refBetween(c, at, later); g != w {
			t.Fatalf("Between(%v, %v) = %v, want %v", at, later, g, w)
		}
		if c.IsWorkday(at) != refWorkday(c, at) {
			t.Fatalf("IsWorkday(%v) differs", at)
		}
	}
}
