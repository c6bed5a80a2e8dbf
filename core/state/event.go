package state

import (
	"time"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/workcal"
)

func statusSlot(s model.Status) int {
	for i, x := range model.Statuses {
		if x == s {
			return mStateBase + i
		}
	}
	panic("core: unknown status " + s)
}

// ImportBatch is how many reports Import puts in one transaction: large
// enough that index pages dirtied by a batch are shared by many events.
const ImportBatch = 10000

// SweepBatch bounds the events one deadline sweep marks overdue.
const SweepBatch = 1000

// eventNumber builds 500110001-20261124-000123 from a 9-digit area code,
// the China-time date and a per-area, per-day sequence.
func EventNumberPrefix(jur string, at time.Time) string {
	// Applied for every report: built by hand, as time.Format costs more
	// than the rest of the number.
	var b [18]byte
	n := copy(b[:9], jur)
	for ; n < 9; n++ {
		b[n] = '0'
	}
	b[9] = '-'
	y, m, d := at.In(workcal.CST).Date()
	if y < 1000 || y > 9999 {
		return string(b[:10]) + at.In(workcal.CST).Format("20060102")
	}
	for i, v := range [...]int{y / 100, y % 100, int(m), d} {
		b[10+2*i], b[11+2*i] = byte('0'+v/10), byte('0'+v%10)
	}
	return string(b[:])
}
