package core

import (
	"context"
	"fmt"
	"net/mail"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// Events is the typed API for events.
type Events struct{ s *Store }

// Report records a new event. A location is resolved to its grid here, on the
// proposer side, so apply never consults the spatial index.
func (ev *Events) Report(ctx context.Context, r model.Report) (*model.Event, error) {
	c, err := ev.ReportCommand(ctx, r)
	return prepared[*model.Event](ctx, ev.s, c, err)
}

// ReportCommand validates r and returns the command that reports it, without
// proposing it (bulk import batches these).
func (ev *Events) ReportCommand(ctx context.Context, r model.Report) (*state.Command, error) {
	if err := r.CheckInput(); err != nil {
		return nil, err
	}
	if err := ev.sealContact(&r); err != nil {
		return nil, err
	}
	for i, ref := range r.Attachments { // a link, a javascript: URL or a name is no attachment
		if _, err := model.ParseAttachmentRef(fmt.Sprintf("attachments[%d]", i), ref); err != nil {
			return nil, err
		}
	}
	if r.Grid != "" && r.Location != nil {
		// Both given: they must agree, or the event would sit in one grid
		// and on the map in another.
		if g, err := ev.s.Grids.Get(r.Grid); err == nil && !planar.PolygonContains(g.Geometry, orb.Point{r.Location.Lng, r.Location.Lat}) {
			return nil, errs.Invalid("grid", "location", "grid %s does not contain the location (%g, %g): give the grid or the location that is right, or only one of them", r.Grid, r.Location.Lng, r.Location.Lat)
		}
	}
	if r.Grid == "" && r.Location != nil {
		code, ok, err := ev.s.Grids.index.locate(ev.s, r.Location.Lng, r.Location.Lat)
		if err != nil {
			return nil, err
		}
		if ok {
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
	if err := ev.s.beforeReport(ctx, &r); err != nil {
		return nil, err
	}
	return ev.s.command(ctx, "event.report", r.Jurisdiction, &r)
}

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
		res   []state.Result
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
	for start, more := 0, true; more; start += state.ImportBatch {
		cmds := make([]*state.Command, 0, state.ImportBatch)
		for len(cmds) < state.ImportBatch {
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
	if a.Action == "dispatch" && !model.HandlerIdentity(a.Handler) {
		a.Handler = model.DeptHandler(a.Handler) // a bare name is a department's
	}
	return applyAs[*model.Event](ctx, ev.s, "event.act", "", state.ActPayload{ID: id, Action: a})
}

// Sweep marks open events whose deadline has passed at now as overdue, and
// returns how many it marked. Time-driven work proposes commands like any
// other write; in the replicated node only the leader sweeps.
func (ev *Events) Sweep(ctx context.Context, now time.Time) (int, error) {
	ids, err := ev.dueBefore(now, state.SweepBatch)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return applyAs[int](ctx, ev.s, "event.sweep", "", state.IdsPayload{IDs: ids})
}

// phoneAD and emailAD bind a reporter's sealed phone and email to their fields.
const (
	phoneAD = "event/reporter_phone"
	emailAD = "event/reporter_email"
	nameAD  = "event/reporter"
)

// sealContact seals the reporter's phone and keeps its mask, so the number
// in the clear never enters a command; a caller may not bring its own
// sealed value.
func (ev *Events) sealContact(r *model.Report) error {
	if r.PhoneSealed != "" || r.PhoneMasked != "" {
		return errs.Invalid("reporter_phone", "sealed", "give the number in the clear; the store seals it")
	}
	if r.EmailSealed != "" || r.EmailMasked != "" {
		return errs.Invalid("reporter_email", "sealed", "give the address in the clear; the store seals it")
	}
	if r.ReporterSealed != "" {
		return errs.Invalid("reporter", "sealed", "give the name in the clear; the store seals it")
	}
	if r.Reporter != "" {
		// A resident's name is personal information (PIPL): sealed like the
		// phone, shown masked, opened with it for the 回访 call.
		if len(r.Reporter) > 200 || !utf8.ValidString(r.Reporter) {
			return errs.Invalid("reporter", "length", "reporter is a name of at most 200 bytes of UTF-8")
		}
		var err error
		if r.ReporterSealed, err = ev.s.keyring().Seal([]byte(r.Reporter), nameAD); err != nil {
			return err
		}
		r.Reporter = model.MaskName(r.Reporter)
	}
	if r.Email != "" {
		a, err := mail.ParseAddress(r.Email)
		if err != nil || a.Address != r.Email || len(r.Email) > model.MaxEmail {
			return errs.Invalid("reporter_email", "format", "reporter_email must be one address such as name@example.com")
		}
		if r.EmailSealed, err = ev.s.keyring().Seal([]byte(r.Email), emailAD); err != nil {
			return err
		}
		r.EmailMasked, r.Email = model.MaskEmail(r.Email), ""
	}
	if utf8.RuneCountInString(r.ContactTime) > model.MaxContactTime || !utf8.ValidString(r.ContactTime) {
		return errs.Invalid("reporter_contact_time", "length", "a contact time is at most %d characters", model.MaxContactTime)
	}
	if r.Phone == "" {
		return nil
	}
	d, err := model.NormalizePhone(r.Phone)
	if err != nil {
		return err
	}
	if r.PhoneSealed, err = ev.s.keyring().Seal([]byte(d), phoneAD); err != nil {
		return err
	}
	r.PhoneMasked, r.Phone = model.MaskPhone(d), ""
	return nil
}

// Contact opens an event's reporter phone for the 回访 call. The read is an
// audit record (with the legal basis and purpose) before the number is
// returned; callers check the role first.
func (ev *Events) Contact(ctx context.Context, id string, why model.Purpose) (*model.Contact, error) {
	if err := why.Check(); err != nil {
		return nil, err
	}
	e, err := ev.Get(id)
	if err != nil {
		return nil, err
	}
	var fields []string
	if e.ReporterSealed != "" {
		fields = append(fields, "reporter")
	}
	if e.PhoneSealed != "" {
		fields = append(fields, "reporter_phone")
	}
	if e.EmailSealed != "" {
		fields = append(fields, "reporter_email")
	}
	if len(fields) == 0 {
		return nil, errs.NotFound("reporter_phone", "event %s has no reporter phone or email", id)
	}
	if _, err := ev.s.apply(ctx, "audit.read", e.Jurisdiction, state.ReadPayload{Event: id, Fields: fields, Purpose: why.Text, Basis: why.Basis}); err != nil {
		return nil, err
	}
	c := &model.Contact{Event: id, ContactTime: e.ContactTime}
	kr := ev.s.keyring()
	for _, f := range []struct {
		sealed, ad string
		out        *string
	}{{e.ReporterSealed, nameAD, &c.Reporter}, {e.PhoneSealed, phoneAD, &c.Phone}, {e.EmailSealed, emailAD, &c.Email}} {
		if f.sealed == "" {
			continue
		}
		b, err := kr.Open(f.sealed, f.ad)
		if err != nil {
			return nil, err
		}
		*f.out = string(b)
	}
	return c, nil
}
