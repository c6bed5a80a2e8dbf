package search

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestTokens(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"楼道堆物", []string{"堆物", "楼道", "道堆"}},
		{"3号楼 Fire-exit 堵塞", []string{"3", "exit", "fire", "号楼", "堵塞"}},
		{"水", []string{"水"}},
		{"，。！", nil},
		{"纠纷纠纷", []string{"纠纷", "纷纠"}},
	} {
		if got := Tokens(c.in); !slices.Equal(got, c.want) {
			t.Errorf("Tokens(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSearch(t *testing.T) {
	x := New()
	text := map[string]string{}
	put := func(id, place string, at int64, s string) {
		x.Put(Doc{ID: id, Place: place, At: at}, s)
		text[id] += "\n" + s
	}
	put("e1", "511083001", 100, "楼道堆物影响通行")
	put("e2", "511083002", 200, "邻里纠纷，楼道噪音")
	put("e3", "511083001", 300, "道路积水")
	put("e4", "511083001", 400, "楼道灯坏了")
	x.Put(Doc{ID: "e3", Place: "511083001", At: 300, Rev: 2}, "楼道也有积水") // a note on e3
	text["e3"] += "\n楼道也有积水"
	confirm := func(q string) func(string) bool {
		return func(id string) bool { return Contains(text[id], q) }
	}
	ids := func(r Result) string { return strings.Join(r.IDs, ",") }
	under := func(p string) func(string) bool { return func(pl string) bool { return strings.HasPrefix(pl, p) } }

	if r := x.Search(Query{Text: "楼道", Limit: 10}, nil); ids(r) != "e4,e3,e2,e1" {
		t.Fatalf("楼道: %s", ids(r))
	}
	if r := x.Search(Query{Text: "楼道", Limit: 10, Under: under("511083001")}, nil); ids(r) != "e4,e3,e1" {
		t.Fatalf("楼道 in 511083001: %s", ids(r))
	}
	if r := x.Search(Query{Text: "楼道", Limit: 10, From: 150, To: 400}, nil); ids(r) != "e3,e2" {
		t.Fatalf("楼道 in [150,400): %s", ids(r))
	}
	// Pages follow the cursor.
	r := x.Search(Query{Text: "楼道", Limit: 2}, nil)
	if ids(r) != "e4,e3" || r.Next != "e3" {
		t.Fatalf("page 1: %s next %q", ids(r), r.Next)
	}
	if r = x.Search(Query{Text: "楼道", Limit: 2, After: r.Next}, nil); ids(r) != "e2,e1" || r.Next != "" {
		t.Fatalf("page 2: %s next %q", ids(r), r.Next)
	}
	// Every token must be held, and the phrase is confirmed: 楼道积水 has
	// all its bigrams nowhere, 道堆 only in e1.
	if r := x.Search(Query{Text: "楼道积水", Limit: 10}, confirm("楼道积水")); len(r.IDs) != 0 {
		t.Fatalf("楼道积水: %s", ids(r))
	}
	if r := x.Search(Query{Text: "道堆", Limit: 10}, confirm("道堆")); ids(r) != "e1" {
		t.Fatalf("道堆: %s", ids(r))
	}
	if r := x.Search(Query{Text: "没有", Limit: 10}, nil); len(r.IDs) != 0 {
		t.Fatalf("absent: %s", ids(r))
	}
	// The scan budget ends a page early with a cursor that resumes.
	r = x.Search(Query{Text: "楼道", Limit: 10, MaxScan: 3, Under: under("511083002")}, nil)
	if ids(r) != "e2" || r.Next != "e2" {
		t.Fatalf("budget: %s next %q", ids(r), r.Next)
	}
	if r = x.Search(Query{Text: "楼道", Limit: 10, MaxScan: 3, Under: under("511083002"), After: r.Next}, nil); len(r.IDs) != 0 || r.Next != "" {
		t.Fatalf("after the budget: %s next %q", ids(r), r.Next)
	}
}

func TestPutOutOfOrderKeepsListsSorted(t *testing.T) {
	x := New()
	for i := range 100 {
		x.Put(Doc{ID: fmt.Sprint("e", i)}, "纠纷")
	}
	x.Put(Doc{ID: "e5", Rev: 1}, "调解") // an old event gets a note
	x.Put(Doc{ID: "e50", Rev: 1}, "调解")
	x.Put(Doc{ID: "e5", Rev: 2}, "调解") // again: no duplicate
	if !slices.IsSorted(x.post["调解"]) || len(x.post["调解"]) != 2 {
		t.Fatalf("list %v", x.post["调解"])
	}
	if r := x.Search(Query{Text: "纠纷 调解", Limit: 10}, nil); strings.Join(r.IDs, ",") != "e50,e5" {
		t.Fatalf("纠纷 and 调解: %v", r.IDs)
	}
}

func TestListWithoutText(t *testing.T) {
	x := New()
	for i, st := range []string{"reported", "dispatched", "dispatched", "closed", "dispatched"} {
		h := ""
		if st == "dispatched" {
			h = fmt.Sprint("dept:", []string{"城管", "住建"}[i%2])
		}
		x.Put(Doc{ID: fmt.Sprint("e", i), At: int64(i), Status: st, Handler: h, Category: "dispute"}, "")
	}
	got := func(q Query) string { q.Limit = 10; return strings.Join(x.Search(q, nil).IDs, ",") }
	if s := got(Query{}); s != "e4,e3,e2,e1,e0" {
		t.Fatalf("newest first: %s", s)
	}
	if s := got(Query{Oldest: true}); s != "e0,e1,e2,e3,e4" {
		t.Fatalf("oldest first: %s", s)
	}
	if s := got(Query{Handlers: []string{"dept:城管", "token:t1"}}); s != "e4,e2" {
		t.Fatalf("a department's queue: %s", s)
	}
	if s := got(Query{Status: "dispatched", Oldest: true, After: "e1"}); s != "e2,e4" {
		t.Fatalf("oldest after e1: %s", s)
	}
	// A document updated (status moved on) answers by its new fields.
	x.Put(Doc{ID: "e2", At: 2, Status: "resolved", Handler: "dept:住建"}, "")
	if s := got(Query{Status: "dispatched"}); s != "e4,e1" {
		t.Fatalf("after an update: %s", s)
	}
}
