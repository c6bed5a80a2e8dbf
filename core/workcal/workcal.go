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

	off, on map[int]bool // yyyymmdd
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
	c.off, c.on = map[int]bool{}, map[int]bool{}
	for _, d := range c.Holidays {
		if t, err := time.Parse(time.DateOnly, d); err == nil {
			c.off[dayKey(t)] = true
		}
	}
	for _, d := range c.Workdays {
		if t, err := time.Parse(time.DateOnly, d); err == nil {
			c.on[dayKey(t)] = true
		}
	}
}

func dayKey(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

// IsWorkday reports whether the CST day containing t is a workday.
func (c *Calendar) IsWorkday(t time.Time) bool {
	c.index()
	local := t.In(CST)
	d := dayKey(local)
	if c.on[d] {
		return true
	}
	if c.off[d] {
		return false
	}
	wd := local.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

func startOfDay(t time.Time) time.Time {
	y, m, d := t.In(CST).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, CST)
}

// Add returns the instant at which d of working time has passed after t.
// Time on non-workdays does not count; a deadline that lands exactly at the
// end of a workday stays there.
func (c *Calendar) Add(t time.Time, d time.Duration) time.Time {
	cur := t.In(CST)
	for d > 0 {
		next := startOfDay(cur).AddDate(0, 0, 1)
		if !c.IsWorkday(cur) {
			cur = next
			continue
		}
		if left := next.Sub(cur); d <= left {
			return cur.Add(d)
		} else {
			d -= left
		}
		cur = next
	}
	return cur
}

// Between returns the working time from a to b (zero when b is not after a).
func (c *Calendar) Between(a, b time.Time) time.Duration {
	var total time.Duration
	cur := a.In(CST)
	for cur.Before(b) {
		next := startOfDay(cur).AddDate(0, 0, 1)
		end := next
		if b.Before(end) {
			end = b
		}
		if c.IsWorkday(cur) {
			total += end.Sub(cur)
		}
		cur = next
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
