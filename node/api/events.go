package api

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/divisions"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/workcal"
)

// consistent gates a read: linearizable unless the caller asked for
// ?stale=true, which any replica serves from its own state.
func (s *Server) consistent(r *http.Request) error {
	switch v := r.URL.Query().Get("stale"); v {
	case "true":
		return nil
	case "", "false":
		return s.b.ReadBarrier()
	default:
		return errs.Invalid("stale", "bool", "stale must be true or false, not %q", v)
	}
}

func limitParam(q url.Values, max int) (int, error) {
	n, err := atoiDefault(q.Get("limit"), 50)
	if err != nil || n < 1 || n > max {
		return 0, errs.Invalid("limit", "range", "limit must be a whole number from 1 to %d", max)
	}
	return n, nil
}

// placeOf says where a report would land — its grid, else its
// jurisdiction — before it is proposed, so the scope check runs first and a
// rejected report changes nothing.
func (s *Server) placeOf(rep *model.Report) (string, error) {
	st := s.b.Store()
	switch {
	case rep.Grid != "":
		g, err := st.Grids.Get(rep.Grid)
		if err != nil {
			return "", errs.NotFound("grid", "grid %s not found", rep.Grid)
		}
		return g.Place(), nil // the grid itself: a token scoped to it reports there
	case rep.Location != nil:
		g, err := st.Grids.Locate(rep.Location.Lng, rep.Location.Lat)
		if err == nil {
			return g.Place(), nil
		}
		if rep.Jurisdiction == "" {
			return "", err
		}
	}
	if rep.Jurisdiction == "" {
		return "", errs.Invalid("location", "required", "give a location, a grid or a jurisdiction")
	}
	cur, err := st.Jurisdictions.Resolve(rep.Jurisdiction)
	if err != nil {
		return "", errs.NotFound("jurisdiction", "jurisdiction %s not found", rep.Jurisdiction)
	}
	return cur, nil
}

func (s *Server) reportEvent(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	var rep model.Report
	if err := decode(r, &rep); err != nil {
		return err
	}
	// Plugin fields a report form declares may be filled by the reporter;
	// the forms are read only for a report that names a plugin field.
	ctx := r.Context()
	if namesPluginField(rep.Ext) {
		var err error
		if ctx, err = withReportFields(ctx, rep.Ext, s.reportFields(), func(k string) string { return "ext." + k }); err != nil {
			return err
		}
	}
	place, err := s.placeOf(&rep)
	if err != nil {
		return err
	}
	if err := inScope(tk, place, "location", "area", place); err != nil {
		return err
	}
	ev, err := s.b.Store().Events.Report(ctx, rep)
	return writeCreated(w, ev, err, s.b.Store().Events.Get, func(ev *model.Event) string { return "/api/v1/events/" + ev.ID })
}

func (s *Server) scopedEvent(r *http.Request) (*model.Event, error) {
	id := r.PathValue("id")
	ev, err := s.b.Store().Events.Get(id)
	if err != nil {
		return nil, err
	}
	return ev, inScope(tokenOf(r.Context()), ev.Place(), "id", "event", id)
}

type eventView struct {
	*model.Event
	Timeline []model.TimelineEntry `json:"timeline,omitempty"`
	// Actions are those this token may take now (core/access): the console
	// offers these and no others.
	Actions []string `json:"actions"`
	// Returned, on an event last given back (退回) and not dispatched
	// again, says who gave it back and why.
	Returned *returnedView `json:"returned,omitempty"`
	// Holder names the tier an escalated event is held by; this copy
	// follows its outcomes and takes comments only.
	Holder string `json:"holder,omitempty"`
}

// returnedView is who returned an event, when and why.
type returnedView struct {
	By      string    `json:"by"`
	Person  string    `json:"person,omitempty"` // the token holder's name, when known
	Handler string    `json:"handler,omitempty"`
	At      time.Time `json:"at"`
	Reason  string    `json:"reason"`
}

// returnedBy reads the last return from a timeline, unless a dispatch came
// after it.
func (s *Server) returnedBy(tl []model.TimelineEntry) *returnedView {
	for i := len(tl) - 1; i >= 0; i-- {
		switch tl[i].Action {
		case "dispatch":
			return nil
		case "return":
			te := tl[i]
			v := &returnedView{By: te.Actor, Handler: te.Data["handler"], At: te.At, Reason: te.Data["reason"]}
			if id, ok := strings.CutPrefix(te.Actor, "token:"); ok {
				if tk, err := s.b.Store().Tokens.Get(id); err == nil {
					v.Person = tk.Person
				}
			}
			return v
		}
	}
	return nil
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) error {
	if err := s.consistent(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	ev, tl, err := s.b.Store().Events.Detail(id) // one read: rev and timeline agree
	if err != nil {
		return err
	}
	if err := inScope(tokenOf(r.Context()), ev.Place(), "id", "event", id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, eventView{Event: ev, Timeline: tl, Actions: access.ActionsOn(tokenOf(r.Context()), ev), Returned: s.returnedBy(tl), Holder: ev.EscalatedTo})
	return nil
}

func (s *Server) actOnEvent(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	var a model.Action
	if err := decode(r, &a); err != nil {
		return err
	}
	if err := requireAction(tk, a.Action); err != nil {
		return err
	}
	ev, err := s.scopedEvent(r)
	if err != nil {
		return err
	}
	if a.Action == "merge" {
		into, err := s.b.Store().Events.Get(a.Into)
		if err != nil || !tk.Covers(into.Jurisdiction) {
			return errs.NotFound("into", "event %s not found", a.Into)
		}
	}
	ev, err = s.b.Store().Events.Act(r.Context(), ev.ID, a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, eventView{Event: ev, Actions: access.ActionsOn(tk, ev), Holder: ev.EscalatedTo})
	return nil
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	limit, cursor, err := pageParams(r, "listEvents")
	if err != nil {
		return err
	}
	eq, err := s.eventQuery(r)
	if err != nil {
		return err
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	page, err := s.eventPage(r, eq, cursor, limit)
	if err != nil {
		return err
	}
	if page.Events == nil {
		page.Events = []*model.Event{}
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// eventQuery is what a listing of events asks, read from its query string
// (everything but the page).
type eventQuery struct {
	model.Query
	text   string
	mine   bool
	order  string
	byTime bool // served by the search index, by report time
}

// eventQuery reads and checks a listing's filters against the token's
// scope.
func (s *Server) eventQuery(r *http.Request) (eventQuery, error) {
	tk := tokenOf(r.Context())
	q := r.URL.Query()
	eq := eventQuery{Query: model.Query{Jurisdiction: q.Get("jurisdiction"), Grid: q.Get("grid"), Status: model.Status(q.Get("status")),
		Category: q.Get("category")}, text: q.Get("q"), order: q.Get("sort")}
	var err error
	if err := s.knownCategory(eq.Category); err != nil {
		return eq, err
	}
	if v := q.Get("overdue"); v != "" {
		if eq.Overdue, err = strconv.ParseBool(v); err != nil {
			return eq, errs.Invalid("overdue", "bool", "overdue must be true or false")
		}
	}
	if v := q.Get("supervised"); v != "" {
		if eq.Supervised, err = strconv.ParseBool(v); err != nil {
			return eq, errs.Invalid("supervised", "bool", "supervised must be true or false")
		}
	}
	if eq.Urgency = q.Get("urgency"); eq.Urgency != "" && !slices.Contains(model.Urgencies, eq.Urgency) {
		return eq, errs.Invalid("urgency", "enum", "urgency must be one of %v", model.Urgencies)
	}
	if eq.From, err = instantParam(q, "from", false); err != nil {
		return eq, err
	}
	if eq.To, err = instantParam(q, "to", true); err != nil {
		return eq, err
	}
	if !eq.From.IsZero() && !eq.To.IsZero() && !eq.From.Before(eq.To) {
		return eq, errs.Invalid("to", "range", "to must be after from")
	}
	if v := q.Get("mine"); v != "" {
		if eq.mine, err = strconv.ParseBool(v); err != nil {
			return eq, errs.Invalid("mine", "bool", "mine must be true or false")
		}
	}
	switch eq.order {
	case "", "place", "newest", "oldest":
	default:
		return eq, errs.Invalid("sort", "enum", "sort must be place, newest or oldest")
	}
	if eq.Jurisdiction == "" && eq.Grid == "" {
		eq.Jurisdiction = tk.Scope
	}
	if eq.Jurisdiction != "" {
		if eq.Jurisdiction, err = s.resolveIn(tk, eq.Jurisdiction, "jurisdiction"); err != nil {
			return eq, err
		}
	}
	if eq.Grid != "" {
		if err := inScope(tk, eq.Grid, "grid", "grid", eq.Grid); err != nil {
			return eq, err
		}
	}
	eq.byTime = eq.text != "" || eq.mine || eq.order == "newest" || eq.order == "oldest"
	if eq.byTime && eq.order == "place" {
		return eq, errs.Invalid("sort", "combination", "q and mine list by report time: sort newest or oldest")
	}
	if eq.byTime && eq.Overdue {
		return eq, errs.Invalid("overdue", "combination", "overdue lists by place; it does not combine with q, mine or a sort by time")
	}
	return eq, nil
}

// eventPage reads one page of a listing.
func (s *Server) eventPage(r *http.Request, eq eventQuery, cursor string, limit int) (model.Page, error) {
	if !eq.byTime {
		q := eq.Query
		q.After, q.Limit = cursor, limit
		return s.b.Store().Events.List(q)
	}
	sq := core.SearchQuery{Text: eq.text, Under: model.PlaceOf(eq.Jurisdiction, eq.Grid), From: eq.From, To: eq.To,
		Status: eq.Status, Category: eq.Category, Urgency: eq.Urgency, Supervised: eq.Supervised, Oldest: eq.order == "oldest", After: cursor, Limit: limit}
	if eq.mine {
		sq.Handlers = tokenOf(r.Context()).Handlers()
	}
	return s.b.Store().Events.Search(sq)
}

// instantParam reads an RFC 3339 time, or a date (YYYY-MM-DD) in China
// Standard Time: its start, or for an end bound (to) the start of the day
// after, so that from=2026-11-01&to=2026-11-30 is all of November.
func instantParam(q url.Values, name string, end bool) (time.Time, error) {
	return parseInstant(q.Get(name), name, end)
}

// parseInstant reads v as instantParam does ("" is the zero time).
func parseInstant(v, name string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, v, workcal.CST)
	if err != nil {
		return time.Time{}, errs.Invalid(name, "time", "%s must be a date (YYYY-MM-DD, China time) or an RFC 3339 time", name)
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

func (s *Server) getStats(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	q := r.URL.Query()
	if q.Get("from") != "" || q.Get("to") != "" {
		return s.rangeStats(w, r, tk)
	}
	if grid := q.Get("grid"); grid != "" {
		return s.gridStats(w, r, tk, grid)
	}
	code := q.Get("jurisdiction")
	if code == "" {
		code = tk.Scope
	}
	cur, err := s.b.Store().Jurisdictions.Resolve(code)
	if err != nil {
		return err
	}
	if err := inScope(tk, cur, "jurisdiction", "jurisdiction", code); err != nil {
		return err
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	// Another group's own figures arrive as rollups: a city answers for a
	// county (all time, all categories) without asking it. ?source=local
	// gives what this node itself holds (escalated events) instead.
	if err := s.knownCategory(q.Get("category")); err != nil {
		return err
	}
	src := q.Get("source")
	switch src {
	case "", "local", "rollup":
	default:
		return errs.Invalid("source", "enum", "source must be local or rollup, not %q", src)
	}
	if src != "local" && cur != s.b.Jurisdiction() && q.Get("period") == "" && q.Get("category") == "" {
		ru, ok, err := s.b.Store().Federation.Rollup(cur)
		if err != nil {
			return err
		}
		if ok {
			writeJSON(w, http.StatusOK, stats{Figures: ru.Figures, Source: "rollup", AsOf: ru.AsOf, Via: ru.Via})
			return nil
		}
	}
	if src != "local" && q.Get("period") == "" && q.Get("category") == "" {
		// A city or province: the sum of the groups below it, each counting
		// its own events (this node's own counters hold escalated copies,
		// which the groups below count already).
		if sum, ok, err := s.sumOfRollups(cur); err != nil {
			return err
		} else if ok {
			writeJSON(w, http.StatusOK, sum)
			return nil
		}
	}
	if src == "rollup" {
		return errs.NotFound("jurisdiction", "no rollup from %s (all-time, all categories only)", cur)
	}
	f, err := s.b.Store().Events.Figures(cur, q.Get("period"), q.Get("category"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, stats{Figures: f, Source: "local"})
	return nil
}

// gridStats answers /stats?grid=: one grid's own counters, all time or
// for one month. A grid's figures are not kept by category, and a grid
// outside the token's scope reads as missing.
func (s *Server) gridStats(w http.ResponseWriter, r *http.Request, tk *model.Token, grid string) error {
	q := r.URL.Query()
	if q.Get("category") != "" {
		return errs.Invalid("category", "grid", "a grid's figures are not kept by category; ask its jurisdiction")
	}
	if j := q.Get("jurisdiction"); j != "" && !model.Under(grid, j) {
		return errs.Invalid("grid", "scope", "grid %s is not under jurisdiction %s", grid, j)
	}
	if err := inScope(tk, grid, "grid", "grid", grid); err != nil {
		return err
	}
	period := q.Get("period")
	if period != "" {
		if _, err := time.Parse("200601", period); err != nil {
			return errs.Invalid("period", "format", "period must be YYYYMM")
		}
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	if _, err := s.b.Store().Grids.Get(grid); err != nil {
		return errs.NotFound("grid", "grid %s not found", grid)
	}
	f, err := s.b.Store().Events.GridFigures(grid, period)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, stats{Figures: f, Source: "local"})
	return nil
}

// stats is Figures with where they come from: this node's own counters, or
// the latest rollup another group sent up.
type stats struct {
	model.Figures
	Source string    `json:"source"`         // local, rollup, or rollups (a sum)
	AsOf   time.Time `json:"as_of,omitzero"` // rollup: when the sender computed them; rollups: the oldest
	Via    string    `json:"via,omitempty"`  // rollup: the child that forwarded it
	// Parts, for a sum of rollups, are the groups' own figures it adds up.
	Parts []model.Rollup `json:"parts,omitempty"`
}

// knownCategory refuses a category filter that names no category, as an
// unknown status is refused: an empty answer would read as "none here".
func (s *Server) knownCategory(code string) error {
	if code == "" {
		return nil
	}
	cats, err := s.b.Store().Events.Categories()
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(cats, func(c model.Category) bool { return c.Code == code }) {
		return errs.Invalid("category", "enum", "unknown category %q (GET /api/v1/categories lists them)", code)
	}
	return nil
}

// eventContact opens an event reporter's phone for the 回访 call: roles
// that may reveal, with a legal basis and purpose, audited before the
// number is read.
func (s *Server) eventContact(w http.ResponseWriter, r *http.Request) error {
	if err := s.consistent(r); err != nil {
		return err
	}
	ev, err := s.scopedEvent(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	c, err := s.b.Store().Events.Contact(r.Context(), ev.ID, model.Purpose{Basis: q.Get("basis"), Text: q.Get("purpose")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// sumOfRollups adds up the rollups of the groups under code, when it is
// this node's own jurisdiction, a city or province, and some have rolled
// up.
func (s *Server) sumOfRollups(code string) (stats, bool, error) {
	if code != s.b.Jurisdiction() {
		return stats{}, false, nil
	}
	// Only a city or province: a county's own counters are its figures.
	if j, err := s.b.Store().Jurisdictions.Get(code); err != nil || (j.Tier != divisions.City && j.Tier != divisions.Province) {
		return stats{}, false, nil
	}
	all, err := s.b.Store().Federation.Rollups()
	if err != nil {
		return stats{}, false, err
	}
	var parts []model.Rollup
	var figs []model.Figures
	var oldest time.Time
	for _, r := range all {
		if r.Code == code || !model.Under(r.Code, code) {
			continue
		}
		parts = append(parts, r)
		figs = append(figs, r.Figures)
		if oldest.IsZero() || r.AsOf.Before(oldest) {
			oldest = r.AsOf
		}
	}
	if len(parts) == 0 {
		return stats{}, false, nil
	}
	return stats{Figures: model.SumFigures(code, figs), Source: "rollups", AsOf: oldest, Parts: parts}, true, nil
}

// rangeStats answers figures for the events reported in [from, to) under a
// jurisdiction or grid, counted from the events themselves (the counters
// keep whole months only).
func (s *Server) rangeStats(w http.ResponseWriter, r *http.Request, tk *model.Token) error {
	q := r.URL.Query()
	if q.Get("period") != "" || q.Get("source") != "" {
		return errs.Invalid("period", "combination", "from and to give the range; period and source do not combine with them")
	}
	from, err := instantParam(q, "from", false)
	if err != nil {
		return err
	}
	to, err := instantParam(q, "to", true)
	if err != nil {
		return err
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return errs.Invalid("to", "range", "to must be after from")
	}
	if err := s.knownCategory(q.Get("category")); err != nil {
		return err
	}
	under := q.Get("grid")
	if under != "" {
		g, err := s.b.Store().Grids.Get(under)
		if err != nil {
			return err
		}
		if err := inScope(tk, g.Place(), "grid", "grid", under); err != nil {
			return err
		}
	} else {
		code := q.Get("jurisdiction")
		if code == "" {
			code = tk.Scope
		}
		if under, err = s.resolveIn(tk, code, "jurisdiction"); err != nil {
			return err
		}
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	f, err := s.b.Store().Events.FiguresBetween(under, q.Get("category"), from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, stats{Figures: f, Source: "events"})
	return nil
}
