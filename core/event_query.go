package core

import (
	"bytes"
	"time"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Query filters an event listing. Jurisdiction (any tier) and Grid narrow
// the place; Status, Category and Overdue narrow further. After is the cursor
// from the previous page.
type Query struct {
	Jurisdiction string
	Grid         string
	Status       Status
	Category     string
	Overdue      bool
	After        string
	Limit        int // default 50, at most 500
}

// Page is one page of events and the cursor for the next ("" when done).
type Page struct {
	Events []*Event `json:"events"`
	Next   string   `json:"next,omitempty"`
}

// maxScan bounds the index entries one page may read, so a selective filter
// returns a short page and a cursor instead of scanning without end.
const maxScan = 20000

// List returns events matching q in index order (by place, then id).
func (ev *Events) List(q Query) (Page, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > 500 {
		return Page{}, errs.Invalid("limit", "range", "limit is at most 500")
	}
	if q.Status != "" && !validStatus(q.Status) {
		return Page{}, errs.Invalid("status", "enum", "unknown status %q", q.Status)
	}
	loc := ""
	switch {
	case q.Grid != "":
		loc = q.Grid + "/"
	case q.Jurisdiction != "":
		cur, err := ev.s.Jurisdictions.Resolve(q.Jurisdiction)
		if err != nil {
			return Page{}, err
		}
		loc = prefixOf(cur)
	}
	if q.Grid != "" && q.Jurisdiction != "" && !isUnder(q.Grid, q.Jurisdiction) {
		return Page{}, nil
	}
	var prefix string
	byPlace := false
	switch {
	case q.Overdue:
		prefix = ixOverdue + loc
	case q.Status != "":
		prefix = ixStatus + string(q.Status) + "/" + loc
	case q.Category != "":
		prefix = ixCategory + q.Category + "/" + loc
	default:
		prefix, byPlace = ixLoc+loc, true
	}
	after, err := cursorKey(q.After, []byte(prefix))
	if err != nil {
		return Page{}, err
	}
	var page Page
	err = ev.s.engine.View(func(tx *bbolt.Tx) error {
		ixb, evb := tx.Bucket(bEvIndex), tx.Bucket(bEvent)
		var it indexIter
		if byPlace {
			it = newPlaceIter(ixb, prefix[len(ixLoc):], after)
		} else {
			it = newPrefixIter(ixb, prefix, after)
		}
		scanned := 0
		var last []byte
		for k := it.next(); k != nil; k = it.next() {
			if len(page.Events) == q.Limit || scanned == maxScan {
				page.Next = cursorOf(last)
				break
			}
			scanned++
			last = append(last[:0], k...)
			id := k[bytes.LastIndexByte(k, '/')+1:]
			var e Event
			if err := decodeRecord(evb.Get(id), &e); err != nil {
				return err
			}
			if (q.Status != "" && e.Status != q.Status) || (q.Category != "" && e.Category != q.Category) {
				continue
			}
			page.Events = append(page.Events, &e)
		}
		return nil
	})
	return page, err
}

// Get returns one event.
func (ev *Events) Get(id string) (*Event, error) {
	var e Event
	err := ev.s.engine.View(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bEvent).Get([]byte(id))
		if raw == nil {
			return errs.NotFound("id", "event %s not found", id)
		}
		return decodeRecord(raw, &e)
	})
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// Timeline returns every action on an event, oldest first.
func (ev *Events) Timeline(id string) ([]TimelineEntry, error) {
	var out []TimelineEntry
	err := ev.s.engine.View(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bEvent).Get([]byte(id))
		if raw == nil {
			return errs.NotFound("id", "event %s not found", id)
		}
		var e Event
		if err := decodeRecord(raw, &e); err != nil {
			return err
		}
		pre := []byte(id + "/")
		rest, err := prefixValues[TimelineEntry](tx, bEvent, pre, 0, func(k []byte) bool { return len(k) == len(pre)+4 })
		out = append([]TimelineEntry{{Rev: 1, At: e.ReportedAt, Actor: e.ReportedBy, Action: "report", To: StatusReported}}, rest...)
		return err
	})
	return out, err
}

// dueBefore lists active, not yet overdue events whose deadline is before now.
func (ev *Events) dueBefore(now time.Time, limit int) ([]string, error) {
	var ids []string
	end := []byte(ixDeadline + timeKey(now.Unix()))
	n := len(ixDeadline)
	err := ev.s.engine.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bEvIndex).Cursor()
		for k, _ := c.Seek([]byte(ixDeadline)); k != nil && bytes.HasPrefix(k, []byte(ixDeadline)) && bytes.Compare(k[:n+8], end) < 0 && len(ids) < limit; k, _ = c.Next() {
			ids = append(ids, string(k[n+8:]))
		}
		return nil
	})
	return ids, err
}

// Figures are the counts and rates (三率) of one scope.
type Figures struct {
	Scope    string           `json:"scope"`              // jurisdiction or grid code
	Period   string           `json:"period,omitempty"`   // YYYYMM, empty for all time
	Category string           `json:"category,omitempty"` // empty for all categories
	Reported int64            `json:"reported"`
	ByStatus map[Status]int64 `json:"by_status"`

	Accepted       int64 `json:"accepted"`
	AcceptedInTime int64 `json:"accepted_in_time"`
	Rejected       int64 `json:"rejected"`
	Rated          int64 `json:"rated"`
	Satisfied      int64 `json:"satisfied"`
	Overdue        int64 `json:"overdue"`
	Supervised     int64 `json:"supervised"`
	Merged         int64 `json:"merged"`
	SelfResolved   int64 `json:"self_resolved"`

	ResponseRate     float64 `json:"response_rate"`     // 响应率: accepted in time / reported
	ResolutionRate   float64 `json:"resolution_rate"`   // 解决率: closed / (reported − rejected − merged)
	SatisfactionRate float64 `json:"satisfaction_rate"` // 满意率: satisfied / rated
}

func ratio(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func figuresFrom(scope, period, category string, c counterSet) Figures {
	f := Figures{Scope: scope, Period: period, Category: category, ByStatus: map[Status]int64{},
		Reported: c[mReported], Accepted: c[mAccepted], AcceptedInTime: c[mAcceptedInTime], Rejected: c[mRejected],
		Rated: c[mRated], Satisfied: c[mSatisfied], Overdue: c[mOverdue], Supervised: c[mSupervised],
		Merged: c[mMerged], SelfResolved: c[mSelfResolved]}
	for i, s := range statusOrder {
		f.ByStatus[s] = c[mStateBase+i]
	}
	f.ResponseRate = ratio(f.AcceptedInTime, f.Reported)
	f.ResolutionRate = ratio(f.ByStatus[StatusClosed], f.Reported-f.Rejected-f.Merged)
	f.SatisfactionRate = ratio(f.Satisfied, f.Rated)
	return f
}

func checkPeriod(period string) error {
	if period == "" {
		return nil
	}
	if _, err := time.Parse("200601", period); err != nil {
		return errs.Invalid("period", "format", "period must be YYYYMM, got %q", period)
	}
	return nil
}

// Figures returns one jurisdiction's counters: one read, never a scan.
// period (YYYYMM) and category are optional.
func (ev *Events) Figures(jurisdiction, period, category string) (Figures, error) {
	if err := checkPeriod(period); err != nil {
		return Figures{}, err
	}
	cur, err := ev.s.Jurisdictions.Resolve(jurisdiction)
	if err != nil {
		return Figures{}, err
	}
	var c counterSet
	err = ev.s.engine.View(func(tx *bbolt.Tx) error {
		c = readCounters(tx, "j/"+prefixOf(cur)+"/"+period+"/"+category)
		return nil
	})
	return figuresFrom(cur, period, category, c), err
}

// GridFigures returns one grid's counters, all time or for one month.
func (ev *Events) GridFigures(grid, period string) (Figures, error) {
	if err := checkPeriod(period); err != nil {
		return Figures{}, err
	}
	if _, err := ev.s.Grids.Get(grid); err != nil {
		return Figures{}, err
	}
	var c counterSet
	err := ev.s.engine.View(func(tx *bbolt.Tx) error {
		c = readCounters(tx, "g/"+grid+"/"+period+"/")
		return nil
	})
	return figuresFrom(grid, period, "", c), err
}
