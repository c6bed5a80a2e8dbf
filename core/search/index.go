package search

import (
	"slices"
	"strings"
	"sync"
)

// Doc is one indexed event: its id, where it lies (for scope filtering),
// when it was reported (Unix seconds) and the timeline revision its notes
// are indexed up to.
type Doc struct {
	ID    string
	Place string
	At    int64
	Rev   int
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
		x.docs[n].Place, x.docs[n].Rev = d.Place, max(x.docs[n].Rev, d.Rev)
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

// Query asks for documents holding every token of Text, within Scope (a
// place prefix test, see Under), reported in [From, To) when those are set
// (Unix seconds, 0 for open), newest first, after the document After.
type Query struct {
	Text     string
	Under    func(place string) bool
	From, To int64
	After    string
	Limit    int
	// MaxScan bounds the candidates looked at; a page that reaches it ends
	// early with a cursor, so one query never runs long.
	MaxScan int
}

// Result is a page of matching document ids, newest first, and the id to
// continue after ("" when the candidates are exhausted).
type Result struct {
	IDs     []string
	Next    string
	Scanned int
}

// Search runs q. confirm, when not nil, is asked about each candidate that
// holds every token (to check the exact phrase); it runs under the
// index's read lock and must not call back into it.
func (x *Index) Search(q Query, confirm func(id string) bool) Result {
	toks := Tokens(q.Text)
	var res Result
	if len(toks) == 0 || q.Limit <= 0 {
		return res
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	lists := make([][]uint32, len(toks))
	for i, t := range toks {
		if lists[i] = x.post[t]; len(lists[i]) == 0 {
			return res
		}
	}
	// Drive from the shortest list; probe the others.
	slices.SortFunc(lists, func(a, b []uint32) int { return len(a) - len(b) })
	driver, others := lists[0], lists[1:]
	end := len(driver)
	if q.After != "" {
		n, ok := x.byID[q.After]
		if !ok {
			return res
		}
		end, _ = slices.BinarySearch(driver, n)
	}
	for i := end - 1; i >= 0; i-- {
		if q.MaxScan > 0 && res.Scanned == q.MaxScan {
			res.Next = x.docs[driver[i+1]].ID // the last one looked at
			return res
		}
		res.Scanned++
		n := driver[i]
		d := &x.docs[n]
		if (q.Under != nil && !q.Under(d.Place)) || (q.From != 0 && d.At < q.From) || (q.To != 0 && d.At >= q.To) {
			continue
		}
		if !holdsAll(others, n) || (confirm != nil && !confirm(d.ID)) {
			continue
		}
		res.IDs = append(res.IDs, d.ID)
		if len(res.IDs) == q.Limit {
			if i > 0 {
				res.Next = d.ID
			}
			return res
		}
	}
	return res
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
