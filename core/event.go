package core

import (
	"context"
	"fmt"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/workcal"
)

// Status is an event's state.
type Status string

// Event states (DESIGN.md).
const (
	StatusReported   Status = "reported"    // 已上报
	StatusAccepted   Status = "accepted"    // 已受理
	StatusRejected   Status = "rejected"    // 不予受理 (final)
	StatusDispatched Status = "dispatched"  // 已派遣
	StatusInProgress Status = "in_progress" // 处置中
	StatusResolved   Status = "resolved"    // 已处置
	StatusClosed     Status = "closed"      // 已结案
	StatusSuspended  Status = "suspended"   // 挂账
	StatusEscalated  Status = "escalated"   // 已上报上级
	StatusMerged     Status = "merged"      // 已合并 (final)
)

// statusOrder fixes each status's counter slot.
var statusOrder = []Status{StatusReported, StatusAccepted, StatusRejected, StatusDispatched, StatusInProgress,
	StatusResolved, StatusClosed, StatusSuspended, StatusEscalated, StatusMerged}

func statusSlot(s Status) int {
	for i, x := range statusOrder {
		if x == s {
			return mStateBase + i
		}
	}
	panic("core: unknown status " + s)
}

func validStatus(s Status) bool {
	for _, x := range statusOrder {
		if x == s {
			return true
		}
	}
	return false
}

// active states are open and running against the clock.
func (s Status) active() bool {
	switch s {
	case StatusReported, StatusAccepted, StatusDispatched, StatusInProgress, StatusResolved:
		return true
	}
	return false
}

// open states are active or suspended.
func (s Status) open() bool { return s.active() || s == StatusSuspended }

// Event sources.
var eventSources = []string{"grid_worker", "resident", "hotline_12345", "video", "superior", "plugin", "system"}

// Point is a WGS-84 longitude/latitude.
type Point struct {
	Lng float64 `json:"lng"`
	Lat float64 `json:"lat"`
}

// Event is one 事件 as it stands now; its history is in the timeline.
type Event struct {
	ID           string    `json:"id"` // human-readable number, e.g. 500110001-20261124-000123
	Status       Status    `json:"status"`
	Prior        Status    `json:"prior,omitempty"` // state to resume to from suspended
	Source       string    `json:"source"`
	Category     string    `json:"category"`
	Urgency      string    `json:"urgency"`
	Location     *Point    `json:"location,omitempty"`
	Grid         string    `json:"grid,omitempty"`
	Jurisdiction string    `json:"jurisdiction"` // the deepest known division
	Reporter     string    `json:"reporter,omitempty"`
	Description  string    `json:"description"`
	Attachments  []string  `json:"attachments,omitempty"`
	ReportedAt   time.Time `json:"reported_at"`
	ReportedBy   string    `json:"reported_by"` // the actor who reported it
	AcceptBy     time.Time `json:"accept_by"`
	Deadline     time.Time `json:"deadline"`
	AcceptedAt   time.Time `json:"accepted_at,omitzero"`
	Handler      string    `json:"handler,omitempty"`
	Supervised   int       `json:"supervised,omitempty"`   // times supervised (督办)
	Origin       string    `json:"origin,omitempty"`       // the jurisdiction it was escalated or dispatched from
	EscalatedTo  string    `json:"escalated_to,omitempty"` // the tier above it was handed to
	Priority     int       `json:"priority,omitempty"`
	Overdue      bool      `json:"overdue,omitempty"`
	SuspendedAt  time.Time `json:"suspended_at,omitzero"`
	MergedInto   string    `json:"merged_into,omitempty"`
	Merged       []string  `json:"merged,omitempty"` // events merged into this one
	Satisfaction string    `json:"satisfaction,omitempty"`
	ClosedAt     time.Time `json:"closed_at,omitzero"`
	Period       string    `json:"period"` // YYYYMM of the report, China time
	Rev          int       `json:"rev"`    // number of timeline entries
}

// TimelineEntry is one action in an event's history.
type TimelineEntry struct {
	Rev    int               `json:"rev"`
	At     time.Time         `json:"at"`
	Actor  string            `json:"actor"`
	Action string            `json:"action"`
	From   Status            `json:"from,omitempty"`
	To     Status            `json:"to"`
	Note   string            `json:"note,omitempty"`
	Data   map[string]string `json:"data,omitempty"`
}

// Report is the input to report an event. Category and Description are
// required, and so is a Location, a Grid or a Jurisdiction.
type Report struct {
	Category     string   `json:"category"`
	Urgency      string   `json:"urgency,omitempty"` // default normal
	Source       string   `json:"source,omitempty"`  // default grid_worker
	Description  string   `json:"description"`
	Location     *Point   `json:"location,omitempty"`
	Grid         string   `json:"grid,omitempty"`
	Jurisdiction string   `json:"jurisdiction,omitempty"`
	Reporter     string   `json:"reporter,omitempty"`
	Attachments  []string `json:"attachments,omitempty"`
}

// Action is the input to act on an event; which fields count depends on Action.
type Action struct {
	Action       string     `json:"action"`
	Note         string     `json:"note,omitempty"`
	Handler      string     `json:"handler,omitempty"`      // dispatch
	Deadline     *time.Time `json:"deadline,omitempty"`     // dispatch (optional), extend
	Reason       string     `json:"reason,omitempty"`       // return, reject, extend, suspend
	Passed       *bool      `json:"passed,omitempty"`       // verify
	Satisfaction string     `json:"satisfaction,omitempty"` // rate
	Into         string     `json:"into,omitempty"`         // merge
}

// Events is the typed API for events.
type Events struct{ s *Store }

const maxText = 4000

func (r *Report) check() error {
	if r.Urgency == "" {
		r.Urgency = UrgencyNormal
	}
	if r.Source == "" {
		r.Source = "grid_worker"
	}
	switch {
	case r.Category == "":
		return errs.Invalid("category", "required", "category is required")
	case !contains(urgencies, r.Urgency):
		return errs.Invalid("urgency", "enum", "urgency must be one of %v", urgencies)
	case !contains(eventSources, r.Source):
		return errs.Invalid("source", "enum", "source must be one of %v", eventSources)
	case r.Description == "":
		return errs.Invalid("description", "required", "description is required")
	case len(r.Description) > maxText:
		return errs.Invalid("description", "length", "description is longer than %d bytes", maxText)
	case len(r.Reporter) > 200:
		return errs.Invalid("reporter", "length", "reporter is longer than 200 bytes")
	case len(r.Attachments) > 20:
		return errs.Invalid("attachments", "length", "at most 20 attachments")
	case r.Location == nil && r.Grid == "" && r.Jurisdiction == "":
		return errs.Invalid("location", "required", "give a location, a grid or a jurisdiction")
	}
	for i, a := range r.Attachments {
		if a == "" || len(a) > 500 {
			return errs.Invalid(fmt.Sprintf("attachments[%d]", i), "format", "attachment reference must be 1..500 bytes")
		}
	}
	if r.Location != nil {
		return checkLngLat(r.Location.Lng, r.Location.Lat)
	}
	return nil
}

// Report records a new event. A location is resolved to its grid here, on the
// proposer side, so apply never consults the spatial index.
func (ev *Events) Report(ctx context.Context, r Report) (*Event, error) {
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
	return res[0].Value.(*Event), nil
}

// ReportCommand validates r and returns the command that reports it, without
// proposing it (bulk import batches these).
func (ev *Events) ReportCommand(ctx context.Context, r Report) (*Command, error) {
	if err := r.check(); err != nil {
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

// Import reports many events, ImportBatch per durable transaction. See ImportFrom.
func (ev *Events) Import(ctx context.Context, reports []Report, progress func(done, total int)) (int, error) {
	i := 0
	return ev.ImportFrom(ctx, len(reports), func() (Report, bool) {
		if i == len(reports) {
			return Report{}, false
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
func (ev *Events) ImportFrom(ctx context.Context, total int, next func() (Report, bool), progress func(done, total int)) (int, error) {
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
func (ev *Events) Act(ctx context.Context, id string, a Action) (*Event, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	return applyAs[*Event](ctx, ev.s, "event.act", "", actPayload{ID: id, Action: a})
}

// Sweep marks open events whose deadline has passed at now as overdue, and
// returns how many it marked. Time-driven work proposes commands like any
// other write; in the replicated node only the leader sweeps.
func (ev *Events) Sweep(ctx context.Context, now time.Time) (int, error) {
	ids, err := ev.dueBefore(now, 1000)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return applyAs[int](ctx, ev.s, "event.sweep", "", idsPayload{IDs: ids})
}

// RunSweeper sweeps every interval until ctx ends (embedded mode).
func (ev *Events) RunSweeper(ctx context.Context, interval time.Duration) {
	tk := time.NewTicker(interval)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			for {
				n, err := ev.Sweep(ctx, ev.s.clock())
				if err != nil {
					ev.s.log.Warn("deadline sweep failed", "err", err)
				}
				if n < 1000 {
					break
				}
			}
		}
	}
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
