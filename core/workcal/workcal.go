// Package workcal counts working time on a calendar of workdays and holidays.
//
// Deadlines (办理时限) are set in working hours or days: a weekend or a public
// holiday does not count, and a weekend declared a workday (调休) does. All
// dates are in China Standard Time (UTC+8, no daylight saving), so the result
// never depends on the host's time zone.
package workcal

import (
	"sort"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
)

// CST is China Standard Time.
var CST = time.FixedZone("CST", 8*3600)

// Calendar says which days are workdays. Holidays and Workdays hold dates as
// "2006-01-02" strings; the zero value counts Monday to Friday.
type Calendar struct {
	Holidays []string `json:"holidays,omitempty"` // weekdays that are days off
	Workdays []string `json:"workdays,omitempty"` // weekend days that are worked (调休)

	off, on map[int64]bool // CST day numbers (days since 1970-01-01)
}

// Validate checks every date and that no date is both a holiday and a workday.
func (c *Calendar) Validate() error {
	seen := map[string]bool{}
	for i, d := range c.Holidays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return errs.Invalid("holidays["+itoa(i)+"]", "date", "%q is not a YYYY-MM-DD date", d)
		}
		seen[d] = true
	}
	for i, d := range c.Workdays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return errs.Invalid("workdays["+itoa(i)+"]", "date", "%q is not a YYYY-MM-DD date", d)
		}
		if seen[d] {
			return errs.Invalid("workdays["+itoa(i)+"]", "exclusive", "%s is listed as both holiday and workday", d)
		}
	}
	return nil
}

// Normalize sorts and deduplicates the date lists so equal calendars encode equally.
func (c *Calendar) Normalize() {
	c.Holidays = uniq(c.Holidays)
	c.Workdays = uniq(c.Workdays)
	c.off, c.on = nil, nil
}

func uniq(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	s = append([]string(nil), s...)
	sort.Strings(s)
	out := s[:1]
	for _, v := range s[1:] {
		if v != out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}

func (c *Calendar) index() {
	if c.off != nil {
		return
	}
	c.off, c.on = map[int64]bool{}, map[int64]bool{}
	for _, d := range c.Holidays {
		if t, err := time.Parse(time.DateOnly, d); err == nil {
			c.off[t.Unix()/secondsPerDay] = true
		}
	}
	for _, d := range c.Workdays {
		if t, err := time.Parse(time.DateOnly, d); err == nil {
			c.on[t.Unix()/secondsPerDay] = true
		}
	}
}

const (
	secondsPerDay = 86400
	cstOffset     = 8 * 3600
)

// Days are counted as integers (CST day numbers) rather than with
// time.Date: every report computes two deadlines on every replica.
func dayOf(t time.Time) int64 {
	s := t.Unix() + cstOffset
	n := s / secondsPerDay
	if s%secondsPerDay < 0 {
		n--
	}
	return n
}

// startOf is the first instant of CST day n.
func startOf(n int64) time.Time { return time.Unix(n*secondsPerDay-cstOffset, 0).In(CST) }

func (c *Calendar) workday(n int64) bool {
	c.index()
	if c.on[n] {
		return true
	}
	if c.off[n] {
		return false
	}
	wd := time.Weekday(((n+4)%7 + 7) % 7) // day 0, 1970-01-01, was a Thursday
	return wd != time.Saturday && wd != time.Sunday
}

// IsWorkday reports whether the CST day containing t is a workday.
func (c *Calendar) IsWorkday(t time.Time) bool { return c.workday(dayOf(t)) }

// Add returns the instant at which d of working time has passed after t.
// Time on non-workdays does not count; a deadline that lands exactly at the
// end of a workday stays there.
func (c *Calendar) Add(t time.Time, d time.Duration) time.Time {
	cur, n := t.In(CST), dayOf(t)
	for d > 0 {
		next := startOf(n + 1)
		if !c.workday(n) {
			cur, n = next, n+1
			continue
		}
		if left := next.Sub(cur); d <= left {
			return cur.Add(d)
		} else {
			d -= left
		}
		cur, n = next, n+1
	}
	return cur
}

// Between returns the working time from a to b (zero when b is not after a).
func (c *Calendar) Between(a, b time.Time) time.Duration {
	var total time.Duration
	cur, n := a.In(CST), dayOf(a)
	for cur.Before(b) {
		next := startOf(n + 1)
		end := next
		if b.Before(end) {
			end = b
		}
		if c.workday(n) {
			total += end.Sub(cur)
		}
		cur, n = next, n+1
	}
	return total
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}
