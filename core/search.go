package core

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/search"
	"github.com/fengqiao/fengqiao/core/state"
)

// searcher keeps the full-text index of events current. It is built from
// the events on first use and then follows the change feed; a feed cursor
// the retention has passed, or a restore that moved the feed back, starts
// it over. Queries catch it up first, so a search sees every event the
// replica has applied.
type searcher struct {
	s   *Store
	mu  sync.Mutex // one catch-up at a time
	idx *search.Index
	seq uint64 // the change feed is indexed up to here
}

// SearchQuery asks for events by report time, newest first (Oldest: oldest
// first), optionally only those whose description or notes hold Text.
type SearchQuery struct {
	Text string
	// Under limits the events to a jurisdiction or grid code's subtree (the
	// caller's scope); "" is all.
	Under    string
	From, To time.Time // reported in [From, To); zero for open
	Status   model.Status
	Category string
	// Handlers keeps events dispatched to one of these handler identities
	// (a caller's queue); nil keeps all.
	Handlers []string
	// Urgency keeps one urgency; Supervised only events supervised (督办).
	Urgency    string
	Supervised bool
	Oldest     bool
	After      string // the previous page's Next
	Limit      int    // 1..500, else 50
}

// Search limits.
const (
	MinSearchRunes = 2   // shorter queries match too much to be useful
	MaxSearchRunes = 100 // in characters
	searchMaxScan  = 200_000
)

// Search lists events by report time within q.Under, and with q.Text only
// those whose description or timeline notes hold it: Chinese is matched by
// character bigrams and then confirmed as a phrase against the event.
func (ev *Events) Search(q SearchQuery) (model.Page, error) {
	if q.Text != "" {
		n := utf8.RuneCountInString(strings.TrimSpace(q.Text))
		if n < MinSearchRunes || n > MaxSearchRunes || !utf8.ValidString(q.Text) || len(search.Tokens(q.Text)) == 0 {
			return model.Page{}, errs.Invalid("q", "length", "a search holds %d..%d characters, with letters or digits", MinSearchRunes, MaxSearchRunes)
		}
	}
	if q.Status != "" && !model.ValidStatus(q.Status) {
		return model.Page{}, errs.Invalid("status", "enum", "unknown status %q", q.Status)
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 50
	}
	sr := &ev.s.search
	idx, err := sr.current()
	if err != nil {
		return model.Page{}, err
	}
	sq := search.Query{Text: q.Text, After: q.After, Limit: q.Limit, MaxScan: searchMaxScan,
		Status: string(q.Status), Category: q.Category, Handlers: q.Handlers, Urgency: q.Urgency, Supervised: q.Supervised, Oldest: q.Oldest}
	if q.Under != "" {
		under := q.Under
		sq.Under = func(place string) bool { return state.IsUnder(place, under) }
	}
	if !q.From.IsZero() {
		sq.From = q.From.Unix()
	}
	if !q.To.IsZero() {
		sq.To = q.To.Unix()
	}
	// One token is the phrase itself; a longer query is confirmed against
	// the event.
	var confirm func(id string) bool
	if toks := search.Tokens(q.Text); len(toks) > 1 || (len(toks) == 1 && search.Normalize(q.Text) != toks[0]) {
		confirm = func(id string) bool {
			e, tl, err := ev.s.engine.EventDetail(id)
			if err != nil {
				return false
			}
			if search.Contains(e.Description, q.Text) {
				return true
			}
			for _, te := range tl {
				if te.Note != "" && search.Contains(te.Note, q.Text) {
					return true
				}
			}
			return false
		}
	}
	res := idx.Search(sq, confirm)
	page := model.Page{Events: make([]*model.Event, 0, len(res.IDs)), Next: res.Next}
	for _, id := range res.IDs {
		e, err := ev.s.engine.Event(id)
		if err != nil {
			return model.Page{}, err
		}
		page.Events = append(page.Events, e)
	}
	return page, nil
}

// current catches the index up with the change feed and returns it.
func (sr *searcher) current() (*search.Index, error) {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	if sr.idx == nil {
		if err := sr.rebuild(); err != nil {
			return nil, err
		}
	}
	for {
		page, err := sr.s.engine.Changes(sr.seq, 1000, func(ch model.Change) bool { return ch.Kind == model.ChangeEvent })
		if err != nil && errs.Field(err) == "after" && (errors.Is(err, errs.ErrConflict) || errors.Is(err, errs.ErrInvalid)) {
			// Compacted past us, or the state was restored from an older
			// backup: start over.
			if err := sr.rebuild(); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, ch := range page.Changes {
			if !seen[ch.ID] {
				seen[ch.ID] = true
				if err := sr.indexEvent(ch.ID); err != nil {
					return nil, err
				}
			}
		}
		sr.seq = page.Next
		if page.Next >= page.Last {
			return sr.idx, nil
		}
	}
}

// indexEvent adds an event, or the notes added to it since it was indexed.
func (sr *searcher) indexEvent(id string) error {
	e, tl, err := sr.s.engine.EventDetail(id)
	if errors.Is(err, errs.ErrNotFound) {
		return nil // merged away or never kept
	}
	if err != nil {
		return err
	}
	d, known := sr.idx.Doc(id)
	var b strings.Builder
	if !known {
		b.WriteString(e.Description)
	}
	for _, te := range tl {
		if te.Rev > d.Rev && te.Note != "" {
			b.WriteString("\n")
			b.WriteString(te.Note)
		}
	}
	sr.idx.Put(docOf(e), b.String())
	return nil
}

// rebuild indexes every event from the state, oldest report first, then
// follows the feed from where it stood before the scan (changes made during
// the scan are indexed again, harmlessly).
func (sr *searcher) rebuild() error {
	_, last, err := sr.s.engine.ChangeBounds()
	if err != nil {
		return err
	}
	type pending struct {
		doc  search.Doc
		text string
	}
	var all []pending
	after := ""
	for {
		next, err := sr.s.engine.EventTexts(after, 10_000, func(e *model.Event, notes []model.TimelineEntry) {
			var b strings.Builder
			b.WriteString(e.Description)
			for _, te := range notes {
				b.WriteString("\n")
				b.WriteString(te.Note)
			}
			all = append(all, pending{docOf(e), b.String()})
		})
		if err != nil {
			return err
		}
		if next == "" {
			break
		}
		after = next
	}
	// Numbered by report time, so lists read backwards run newest first.
	slices.SortStableFunc(all, func(a, b pending) int { return cmp.Compare(a.doc.At, b.doc.At) })
	idx := search.New()
	for _, p := range all {
		idx.Put(p.doc, p.text)
	}
	sr.idx, sr.seq = idx, last
	return nil
}

// docOf is what the index keeps of an event besides its text.
func docOf(e *model.Event) search.Doc {
	return search.Doc{ID: e.ID, Place: e.Place(), At: e.ReportedAt.Unix(), Rev: e.Rev, Status: string(e.Status), Category: e.Category, Handler: e.Handler,
		Urgency: e.Urgency, Supervised: e.Supervised > 0}
}
