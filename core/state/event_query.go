package state

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"go.etcd.io/bbolt"
)

// maxScan bounds the index entries one page may read, so a selective filter
// returns a short page and a cursor instead of scanning without end.
const maxScan = 20000

func figuresFrom(scope, period, category string, c counterSet) model.Figures {
	f := model.Figures{Scope: scope, Period: period, Category: category, ByStatus: map[model.Status]int64{},
		Reported: c[mReported], Accepted: c[mAccepted], AcceptedInTime: c[mAcceptedInTime], Rejected: c[mRejected],
		Rated: c[mRated], Satisfied: c[mSatisfied], Overdue: c[mOverdue], Supervised: c[mSupervised],
		Merged: c[mMerged], SelfResolved: c[mSelfResolved]}
	for i, s := range model.Statuses {
		f.ByStatus[s] = c[mStateBase+i]
	}
	f.ResponseRate = model.Ratio(f.AcceptedInTime, f.Reported)
	f.ResolutionRate = model.Ratio(f.ByStatus[model.StatusClosed], f.Reported-f.Rejected-f.Merged)
	f.SatisfactionRate = model.Ratio(f.Satisfied, f.Rated)
	return f
}

// CheckPeriod accepts "" (all time) or a YYYYMM month.
func CheckPeriod(period string) error {
	if period == "" {
		return nil
	}
	if _, err := time.Parse("200601", period); err != nil {
		return errs.Invalid("period", "format", "period must be YYYYMM, got %q", period)
	}
	return nil
}

// Get returns one event.
func (eng *Engine) Event(id string) (*model.Event, error) {
	var e *model.Event
	err := eng.View(func(tx *bbolt.Tx) (err error) {
		e, err = eventIn(tx, id)
		return err
	})
	return e, err
}

// Timeline returns every action on an event, oldest first.
func (eng *Engine) Timeline(id string) ([]model.TimelineEntry, error) {
	_, tl, err := eng.EventDetail(id)
	return tl, err
}

// reportEntry is timeline entry 1, read back from the event itself. Plugin
// hooks that failed open on the report are named in its data.
func reportEntry(e *model.Event) model.TimelineEntry {
	te := model.TimelineEntry{Rev: 1, At: e.ReportedAt, Actor: e.ReportedBy, Action: "report", To: model.StatusReported}
	var skipped []model.Skipped
	if raw, ok := e.Ext[model.ExtSkipped]; ok && json.Unmarshal(raw, &skipped) == nil && len(skipped) > 0 {
		te.Data = map[string]string{}
		for _, s := range skipped {
			te.Data["skipped:"+s.Plugin+":"+s.Hook] = s.Error
		}
	}
	return te
}

// EventDetail returns an event and its timeline read in one transaction, so
// the timeline always has the event's rev entries.
func (eng *Engine) EventDetail(id string) (*model.Event, []model.TimelineEntry, error) {
	var e *model.Event
	var tl []model.TimelineEntry
	err := eng.View(func(tx *bbolt.Tx) (err error) {
		if e, err = eventIn(tx, id); err != nil {
			return err
		}
		pre := []byte(id + "/")
		rest, err := prefixValues[model.TimelineEntry](tx, BucketEvent, pre, 0, func(k []byte) bool { return len(k) == len(pre)+4 })
		tl = append([]model.TimelineEntry{reportEntry(e)}, rest...)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return e, tl, nil
}

func eventIn(tx *bbolt.Tx, id string) (*model.Event, error) {
	raw := tx.Bucket(BucketEvent).Get([]byte(id))
	if raw == nil {
		return nil, errs.NotFound("id", "event %s not found", id)
	}
	var e model.Event
	if err := decodeRecord(raw, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// DueBefore lists active, not yet overdue events whose deadline is before now.
func (eng *Engine) DueBefore(now time.Time, limit int) ([]string, error) {
	var ids []string
	end := []byte(ixDeadline + timeKey(now.Unix()))
	n := len(ixDeadline)
	err := eng.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(BucketEvIndex).Cursor()
		for k, _ := c.Seek([]byte(ixDeadline)); k != nil && bytes.HasPrefix(k, []byte(ixDeadline)) && bytes.Compare(k[:n+8], end) < 0 && len(ids) < limit; k, _ = c.Next() {
			ids = append(ids, string(k[n+8:]))
		}
		return nil
	})
	return ids, err
}

// Events lists events matching q (see Events.List).
func (eng *Engine) Events(q model.Query) (model.Page, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > 500 {
		return model.Page{}, errs.Invalid("limit", "range", "limit is at most 500")
	}
	if q.Status != "" && !model.ValidStatus(q.Status) {
		return model.Page{}, errs.Invalid("status", "enum", "unknown status %q", q.Status)
	}
	loc := ""
	switch {
	case q.Grid != "":
		loc = q.Grid + "/"
	case q.Jurisdiction != "":
		cur, err := eng.Resolve(q.Jurisdiction)
		if err != nil {
			return model.Page{}, err
		}
		loc = PrefixOf(cur)
	}
	if q.Grid != "" && q.Jurisdiction != "" && !IsUnder(q.Grid, q.Jurisdiction) {
		return model.Page{}, nil
	}
	var prefix string
	byPlace := false
	switch {
	case q.Overdue:
		prefix = ixOverdue + loc
	case q.Status != "":
		prefix = IxStatus + string(q.Status) + "/" + loc
	case q.Category != "":
		prefix = ixCategory + q.Category + "/" + loc
	default:
		prefix, byPlace = IxLoc+loc, true
	}
	after, err := cursorKey(q.After, []byte(prefix))
	if err != nil {
		return model.Page{}, err
	}
	var page model.Page
	err = eng.View(func(tx *bbolt.Tx) error {
		ixb, evb := tx.Bucket(BucketEvIndex), tx.Bucket(BucketEvent)
		var it indexIter
		if byPlace {
			it = newPlaceIter(ixb, prefix[len(IxLoc):], after)
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
			var e model.Event
			if err := decodeRecord(evb.Get(id), &e); err != nil {
				return err
			}
			if (q.Status != "" && e.Status != q.Status) || (q.Category != "" && e.Category != q.Category) ||
				(q.Urgency != "" && e.Urgency != q.Urgency) || (q.Supervised && e.Supervised == 0) ||
				(!q.From.IsZero() && e.ReportedAt.Before(q.From)) || (!q.To.IsZero() && !e.ReportedAt.Before(q.To)) {
				continue
			}
			page.Events = append(page.Events, &e)
		}
		return nil
	})
	return page, err
}

// JurisdictionFigures reads the counters of a division (a current code) for
// a period ("" for all time) and a category ("" for all).
func (eng *Engine) JurisdictionFigures(code, period, category string) (model.Figures, error) {
	var c counterSet
	err := eng.View(func(tx *bbolt.Tx) error {
		c = readCounters(tx, counterJur+PrefixOf(code)+"/"+period+"/"+category)
		return nil
	})
	return figuresFrom(code, period, category, c), err
}

// GridFigures reads the counters of a grid for a period ("" for all time).
func (eng *Engine) GridFigures(grid, period string) (model.Figures, error) {
	var c counterSet
	err := eng.View(func(tx *bbolt.Tx) error {
		c = readCounters(tx, counterGrid+grid+"/"+period+"/")
		return nil
	})
	return figuresFrom(grid, period, "", c), err
}
