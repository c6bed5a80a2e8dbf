package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// Each applied command appends what it changed, in order, with the
// status before and after.
func TestChangeFeedRecordsTransitions(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	start, _ := e.Changes.Since(0, MaxChangePage, Viewer{})
	ev, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "x", Grid: "511083001001001"})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []model.Action{{Action: "accept"}, {Action: "dispatch", Handler: "综治办"}} {
		if _, err := e.Events.Act(e.ctx, ev.ID, a); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Events.Act(e.ctx, ev.ID, model.Action{Action: "resolve"}); !errors.Is(err, errs.ErrIllegalTransition) {
		t.Fatal(err)
	}
	p, err := e.People.Add(e.ctx, model.PersonInput{Name: "张三", IDNumber: idNumber(5), Kind: "registered", Jurisdiction: "511083001001", Grid: "511083001001001"})
	if err != nil {
		t.Fatal(err)
	}
	page, err := e.Changes.Since(start.Last, MaxChangePage, Viewer{})
	if err != nil {
		t.Fatal(err)
	}
	want := []model.Change{
		{Kind: model.ChangeEvent, ID: ev.ID, Action: "report", To: "reported"},
		{Kind: model.ChangeEvent, ID: ev.ID, Action: "accept", From: "reported", To: "accepted"},
		{Kind: model.ChangeEvent, ID: ev.ID, Action: "dispatch", From: "accepted", To: "dispatched"},
		{Kind: model.ChangePerson, ID: p.ID, Action: "person.add"},
	}
	if len(page.Changes) != len(want) {
		t.Fatalf("%d changes, want %d: %+v", len(page.Changes), len(want), page.Changes)
	}
	for i, ch := range page.Changes {
		w := want[i]
		if ch.Seq != start.Last+uint64(i)+1 || ch.Kind != w.Kind || ch.ID != w.ID || ch.Action != w.Action || ch.From != w.From || ch.To != w.To {
			t.Fatalf("change %d: %+v, want %+v", i, ch, w)
		}
		if ch.Place != "511083001001001" || ch.Index == 0 || ch.At.IsZero() {
			t.Fatalf("change %d lacks its place, index or time: %+v", i, ch)
		}
	}
	if page.Next != page.Last || page.Last != start.Last+4 {
		t.Fatalf("next %d, last %d", page.Next, page.Last)
	}
}

// The feed keeps ChangeRetention entries; a cursor behind them is told so,
// naming the oldest held, as etcd's watch does after compaction.
func TestChangeFeedRetention(t *testing.T) {
	defer func(n, c uint64) { state.ChangeRetention, state.ChangeChunk = n, c }(state.ChangeRetention, state.ChangeChunk)
	state.ChangeRetention, state.ChangeChunk = 10, 1
	e := newEnv(t, false)
	e.withCounty(t)
	ev, _ := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "x", Grid: "511083001001001"})
	for range 24 {
		if _, err := e.Events.Act(e.ctx, ev.ID, model.Action{Action: "comment", Note: "n"}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.Changes.Since(0, 100, Viewer{})
	if !errors.Is(err, errs.ErrConflict) || errs.Field(err) != "after" {
		t.Fatalf("a cursor behind the retention: %v", err)
	}
	var last uint64
	fmt.Sscanf(err.Error()[strings.LastIndex(err.Error(), " ")+1:], "%d", &last)
	last += 9 // the oldest held, and nine after it
	if _, err := e.Changes.Since(last-11, 100, Viewer{}); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("one behind the oldest: %v", err)
	}
	head, err := e.Changes.Since(last-10, 100, Viewer{})
	if err != nil || len(head.Changes) != 10 || head.Changes[0].Seq != last-9 || head.Last != last || head.Changes[9].ID != ev.ID {
		t.Fatalf("the newest ten: %d changes, last %d, %v", len(head.Changes), head.Last, err)
	}
	if _, err := e.Changes.Since(last+1, 100, Viewer{}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("a cursor beyond the feed: %v", err)
	}
}

// A consumer's cursor is replicated state: it only moves forward, and a bad
// acknowledgement is refused and changes nothing.
func TestChangeCursorAck(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	for range 3 {
		if _, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "x", Grid: "511083001001001"}); err != nil {
			t.Fatal(err)
		}
	}
	page, _ := e.Changes.Since(0, MaxChangePage, Viewer{})
	if n, err := e.Changes.Ack(e.ctx, "plugin:qijiang", page.Last-1); err != nil || n != page.Last-1 {
		t.Fatalf("ack: %d %v", n, err)
	}
	if n, err := e.Changes.Ack(e.ctx, "plugin:qijiang", 1); err != nil || n != page.Last-1 {
		t.Fatalf("a stale ack moved the cursor back: %d %v", n, err)
	}
	before := mustDigest(t, e.Engine())
	if _, err := e.Changes.Ack(e.ctx, "plugin:qijiang", page.Last+5); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "seq" {
		t.Fatalf("an ack beyond the feed: %v", err)
	}
	if _, err := e.Changes.Ack(e.ctx, "no spaces", 1); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "consumer" {
		t.Fatalf("a bad consumer name: %v", err)
	}
	if mustDigest(t, e.Engine()) != before {
		t.Fatal("a refused ack changed the state")
	}
	if n, _ := e.Changes.Cursor("plugin:qijiang"); n != page.Last-1 {
		t.Fatalf("cursor %d", n)
	}
}

// A viewer sees the changes in its scope only, and not the movements of
// special-population records its role may not see.
func TestChangeFeedViewer(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	start, _ := e.Changes.Since(0, MaxChangePage, Viewer{})
	for _, g := range []string{"511083001001001", "511083002001001"} {
		if _, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "x", Grid: g}); err != nil {
			t.Fatal(err)
		}
	}
	p, _ := e.People.Add(e.ctx, model.PersonInput{Name: "李四", IDNumber: idNumber(6), Kind: "registered", Jurisdiction: "511083001001", Grid: "511083001001001"})
	if _, err := e.People.SetSpecial(e.ctx, p.ID, model.SpecialInput{Category: model.SpecialReleased, Level: 1,
		Since: e.clock.Now().AddDate(0, -1, 0), Details: model.SpecialDetails{ReleaseDate: "2025-06-01"}}); err != nil {
		t.Fatal(err)
	}
	count := func(v Viewer) (events, special int) {
		page, err := e.Changes.Since(start.Last, MaxChangePage, v)
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range page.Changes {
			if !access.Under(ch.Place, v.Scope) {
				t.Fatalf("%+v is outside %s", ch, v.Scope)
			}
			switch {
			case ch.Kind == model.ChangeEvent:
				events++
			case ch.Command == "person.special":
				special++
			}
		}
		return events, special
	}
	for _, c := range []struct {
		v               Viewer
		events, special int
	}{
		{Viewer{Role: access.CenterAdmin, Scope: "511083"}, 2, 1},
		{Viewer{Role: access.TownshipOperator, Scope: "511083002"}, 1, 0},
		{Viewer{Role: access.GridWorker, Scope: "511083001"}, 1, 0},
		{Viewer{Role: access.GridWorker, Scope: "511083001001001"}, 1, 1},
	} {
		if ev, sp := count(c.v); ev != c.events || sp != c.special {
			t.Fatalf("%+v sees %d event and %d special changes, want %d and %d", c.v, ev, sp, c.events, c.special)
		}
	}
}

// A reader waiting on the feed wakes when a change lands.
func TestChangeFeedWait(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	page, _ := e.Changes.Since(0, 1, Viewer{})
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- e.Changes.Wait(ctx, page.Last)
	}()
	time.Sleep(20 * time.Millisecond)
	if _, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "x", Grid: "511083001001001"}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("wait: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	latest, _ := e.Changes.Since(page.Last, MaxChangePage, Viewer{})
	if err := e.Changes.Wait(ctx, latest.Last); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a wait with nothing new: %v", err)
	}
}

// Changes stored in chunks read back the same from any position, and the
// retention drops whole chunks once every change in them is past it.
func TestChangeFeedChunks(t *testing.T) {
	defer func(n, c uint64) { state.ChangeRetention, state.ChangeChunk = n, c }(state.ChangeRetention, state.ChangeChunk)
	state.ChangeRetention, state.ChangeChunk = 20, 8
	e := newEnv(t, false)
	e.withCounty(t)
	ev, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "x", Grid: "511083001001001"})
	if err != nil {
		t.Fatal(err)
	}
	for range 30 {
		if _, err := e.Events.Act(e.ctx, ev.ID, model.Action{Action: "comment", Note: "n"}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.Changes.Since(0, 1, Viewer{})
	if !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("the retention dropped nothing: %v", err)
	}
	var oldest uint64
	fmt.Sscanf(err.Error()[strings.LastIndex(err.Error(), " ")+1:], "%d", &oldest)
	if oldest%8 != 0 {
		t.Fatalf("the oldest held, %d, does not start a chunk", oldest)
	}
	tail, err := e.Changes.Since(oldest-1, 1000, Viewer{})
	if err != nil {
		t.Fatal(err)
	}
	if n := uint64(len(tail.Changes)); n < 20 || n >= 20+8 || tail.Changes[0].Seq != oldest || tail.Last != tail.Changes[n-1].Seq {
		t.Fatalf("held %d changes from %d to %d", n, tail.Changes[0].Seq, tail.Last)
	}
	for i, ch := range tail.Changes {
		if ch.Seq != oldest+uint64(i) {
			t.Fatalf("change %d has seq %d", i, ch.Seq)
		}
		// Every start position reads the same tail.
		page, err := e.Changes.Since(ch.Seq-1, 3, Viewer{})
		if err != nil || len(page.Changes) == 0 || page.Changes[0] != ch {
			t.Fatalf("from %d: %v %v", ch.Seq-1, page.Changes, err)
		}
	}
}
