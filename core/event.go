package core

import (
	"context"
	"fmt"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
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

// Events is the typed API for events.
type Events struct{ s *Store }

// Report records a new event. A location is resolved to its grid here, on the
// proposer side, so apply never consults the spatial index.
func (ev *Events) Report(ctx context.Context, r model.Report) (*model.Event, error) {
	c, err := ev.ReportCommand(ctx, r)
	if err != nil {
		return nil, err
	}
	res, err := ev.s.applyCommands(ctx, []*Command{c})
	if err != nil {
		return nil, err
	}
	if res[0].Err != nil {
		return nil, res[0].Err
	}
	return res[0].Value.(*model.Event), nil
}

// ReportCommand validates r and returns the command that reports it, without
// proposing it (bulk import batches these).
func (ev *Events) ReportCommand(ctx context.Context, r model.Report) (*Command, error) {
	if err := r.Check(); err != nil {
		return nil, err
	}
	if r.Grid == "" && r.Location != nil {
		if code, ok := ev.s.engine.LocateGrid(r.Location.Lng, r.Location.Lat); ok {
			r.Grid = code
		} else if r.Jurisdiction == "" {
			return nil, errs.Invalid("location", "out_of_area", "no grid contains (%g, %g)", r.Location.Lng, r.Location.Lat)
		}
	}
	if r.Jurisdiction != "" {
		cur, err := ev.s.Jurisdictions.Resolve(r.Jurisdiction)
		if err != nil {
			return nil, err
		}
		r.Jurisdiction = cur
	}
	return ev.s.command(ctx, "event.report", r.Jurisdiction, &r)
}

// ImportBatch is how many reports Import puts in one transaction: large
// enough that index pages dirtied by a batch are shared by many events.
const ImportBatch = 10000

// sweepBatch bounds the events one deadline sweep marks overdue.
const sweepBatch = 1000

// Import reports many events, ImportBatch per durable transaction. See ImportFrom.
func (ev *Events) Import(ctx context.Context, reports []model.Report, progress func(done, total int)) (int, error) {
	i := 0
	return ev.ImportFrom(ctx, len(reports), func() (model.Report, bool) {
		if i == len(reports) {
			return model.Report{}, false
		}
		i++
		return reports[i-1], true
	}, progress)
}

// ImportFrom reports the events next yields, ImportBatch per durable
// transaction, preparing the next batch while the previous one applies, so
// the input never has to be held in memory whole. total is only passed to
// progress (0 if unknown), which is called after each batch. It stops at the
// first rejected report and returns how many were stored; reports before it
// in the same batch are kept.
func (ev *Events) ImportFrom(ctx context.Context, total int, next func() (model.Report, bool), progress func(done, total int)) (int, error) {
	ctx = withoutKey(ctx)
	type flight struct {
		start int
		res   []Result
		err   error
		done  chan struct{}
	}
	done := 0
	var prev *flight
	wait := func(f *flight) error {
		<-f.done
		if f.err != nil {
			return f.err
		}
		for i, r := range f.res {
			if r.Err != nil {
				return fmt.Errorf("report %d: %w", f.start+i, r.Err)
			}
			done++
		}
		if progress != nil {
			progress(done, total)
		}
		return nil
	}
	for start, more := 0, true; more; start += ImportBatch {
		cmds := make([]*Command, 0, ImportBatch)
		for len(cmds) < ImportBatch {
			r, ok := next()
			if !ok {
				more = false
				break
			}
			c, err := ev.ReportCommand(ctx, r)
			if err != nil {
				if prev != nil {
					wait(prev)
				}
				return done, fmt.Errorf("report %d: %w", start+len(cmds), err)
			}
			cmds = append(cmds, c)
		}
		if len(cmds) == 0 {
			break
		}
		f := &flight{start: start, done: make(chan struct{})}
		go func() {
			defer close(f.done)
			f.res, f.err = ev.s.applyCommands(ctx, cmds)
		}()
		if prev != nil {
			if err := wait(prev); err != nil {
				wait(f)
				return done, err
			}
		}
		prev = f
	}
	if prev != nil {
		if err := wait(prev); err != nil {
			return done, err
		}
	}
	return done, nil
}

// Act applies an action to an event and returns the event as it now stands.
func (ev *Events) Act(ctx context.Context, id string, a model.Action) (*model.Event, error) {
	if err := a.Check(); err != nil {
		return nil, err
	}
	return applyAs[*model.Event](ctx, ev.s, "event.act", "", actPayload{ID: id, Action: a})
}

// Sweep marks open events whose deadline has passed at now as overdue, and
// returns how many it marked. Time-driven work proposes commands like any
// other write; in the replicated node only the leader sweeps.
func (ev *Events) Sweep(ctx context.Context, now time.Time) (int, error) {
	ids, err := ev.dueBefore(now, sweepBatch)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return applyAs[int](ctx, ev.s, "event.sweep", "", idsPayload{IDs: ids})
}

// eventNumber builds 500110001-20261124-000123 from a 9-digit area code,
// the China-time date and a per-area, per-day sequence.
func eventNumberPrefix(jur string, at time.Time) string {
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
