package search

import (
	"slices"
	"strings"
	"sync"
)

// Doc is one indexed event: its id, where it lies (for scope filtering),
// when it was reported (Unix seconds), the timeline revision its notes are
// indexed up to, and what lists filter on.
type Doc struct {
	ID       string
	Place    string
	At       int64
	Rev      int
	Status   string
	Category string
	Handler  string
	Urgency  string
	// Supervised says the event was supervised (督办) at least once.
	Supervised bool
}

// Index maps tokens to the documents holding them. Each posting list holds
// document numbers in ascending order; numbers are given in the order
// documents are added, so a list read backwards runs newest first. Safe for
// concurrent use.
type Index struct {
	mu   sync.RWMutex
	docs []Doc
	byID map[string]uint32
	post map[string][]uint32
}

// New returns an empty index.
func New() *Index { return &Index{byID: map[string]uint32{}, post: map[string][]uint32{}} }

// Len is how many documents the index holds.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.docs)
}

// Doc returns the indexed document with id.
func (x *Index) Doc(id string) (Doc, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n, ok := x.byID[id]
	if !ok {
		return Doc{}, false
	}
	return x.docs[n], true
}

// Put adds text to a document, creating it when new, and sets its place
// and indexed revision. Text already indexed may be given again: its
// tokens are there already.
func (x *Index) Put(d Doc, text string) {
	toks := Tokens(text)
	x.mu.Lock()
	defer x.mu.Unlock()
	n, ok := x.byID[d.ID]
	if !ok {
		n = uint32(len(x.docs))
		x.docs = append(x.docs, d)
		x.byID[d.ID] = n
	} else {
		d.Rev = max(x.docs[n].Rev, d.Rev)
		x.docs[n] = d
	}
	for _, t := range toks {
		l := x.post[t]
		if len(l) == 0 || l[len(l)-1] < n {
			x.post[t] = append(l, n) // the common case: the newest document
			continue
		}
		if i, found := slices.BinarySearch(l, n); !found {
			x.post[t] = slices.Insert(l, i, n)
		}
	}
}

// Query asks for documents holding every token of Text ("" for every
// document), within Under (a place test), reported in [From, To) when those
// are set (Unix seconds, 0 for open), with the given Status, Category and
// one of Handlers when those are set, newest first (Oldest: oldest first),
// after the document After.
type Query struct {
	Text     string
	Under    func(place string) bool
	From, To int64
	Status   string
	Category string
	Handlers []string
	Urgency  string
	// Supervised keeps only events supervised (督办) at least once.
	Supervised bool
	Oldest     bool
	After      string
	Limit      int
	// MaxScan bounds the candidates looked at; a page that reaches it ends
	// early with a cursor, so one query never runs long.
	MaxScan int
}

// Result is a page of matching document ids and the id to continue after
// ("" when the candidates are exhausted).
type Result struct {
	IDs     []string
	Next    string
	Scanned int
}

// Search runs q. confirm, when not nil, is asked about each candidate that
// passes every other test (to check the exact phrase); it runs under the
// index's read lock and must not call back into it.
func (x *Index) Search(q Query, confirm func(id string) bool) Result {
	var res Result
	if q.Limit <= 0 {
		return res
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	// The candidates: the shortest posting list of the text's tokens, the
	// others probed; with no text, every document.
	var driver []uint32
	var others [][]uint32
	size := len(x.docs)
	if q.Text != "" {
		toks := Tokens(q.Text)
		if len(toks) == 0 {
			return res
		}
		lists := make([][]uint32, len(toks))
		for i, t := range toks {
			if lists[i] = x.post[t]; len(lists[i]) == 0 {
				return res
			}
		}
		slices.SortFunc(lists, func(a, b []uint32) int { return len(a) - len(b) })
		driver, others, size = lists[0], lists[1:], len(lists[0])
	}
	at := func(i int) uint32 {
		if driver == nil {
			return uint32(i)
		}
		return driver[i]
	}
	// Positions run from start by step until stop.
	start, stop, step := size-1, -1, -1
	if q.Oldest {
		start, stop, step = 0, size, 1
	}
	if q.After != "" {
		n, ok := x.byID[q.After]
		if !ok {
			return res
		}
		pos := int(n)
		found := true
		if driver != nil {
			pos, found = slices.BinarySearch(driver, n)
		}
		switch {
		case q.Oldest && found:
			start = pos + 1
		case q.Oldest:
			start = pos
		default:
			start = pos - 1
		}
	}
	last := -1
	for i := start; i != stop; i += step {
		if q.MaxScan > 0 && res.Scanned == q.MaxScan {
			res.Next = x.docs[at(last)].ID // the last one looked at
			return res
		}
		res.Scanned++
		last = i
		n := at(i)
		d := &x.docs[n]
		if !d.matches(&q) || !holdsAll(others, n) || (confirm != nil && !confirm(d.ID)) {
			continue
		}
		res.IDs = append(res.IDs, d.ID)
		if len(res.IDs) == q.Limit {
			if i+step != stop {
				res.Next = d.ID
			}
			return res
		}
	}
	return res
}

// matches applies the query's tests that need only the document.
func (d *Doc) matches(q *Query) bool {
	return (q.Under == nil || q.Under(d.Place)) && (q.From == 0 || d.At >= q.From) && (q.To == 0 || d.At < q.To) &&
		(q.Status == "" || d.Status == q.Status) && (q.Category == "" || d.Category == q.Category) &&
		(q.Handlers == nil || slices.Contains(q.Handlers, d.Handler)) &&
		(q.Urgency == "" || d.Urgency == q.Urgency) && (!q.Supervised || d.Supervised)
}

func holdsAll(lists [][]uint32, n uint32) bool {
	for _, l := range lists {
		if _, ok := slices.BinarySearch(l, n); !ok {
			return false
		}
	}
	return true
}

// Contains reports whether text holds the phrase, both normalized.
func Contains(text, phrase string) bool {
	return strings.Contains(Normalize(text), Normalize(phrase))
}
