package replica

import (
	"context"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/state"
)

func TestTrackerWaitsAndKeepsResults(t *testing.T) {
	var tr tracker
	done := make(chan error, 1)
	go func() { done <- tr.wait(context.Background(), 5) }()
	time.Sleep(10 * time.Millisecond)
	one := func(index uint64) []span { return []span{{index: index, n: 1}} }
	at := func(index uint64) position { return position{index: index} }
	tr.advance(one(3), []state.Result{{Value: "three"}}, 4) // not held: not kept
	select {
	case <-done:
		t.Fatal("woke before index 5 applied")
	case <-time.After(20 * time.Millisecond):
	}
	tr.hold()
	tr.advance(one(5), []state.Result{{Value: "five"}}, 6)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if r, ok := tr.result(at(5)); !ok || r.Value != "five" {
		t.Fatalf("result 5: %v %v", r, ok)
	}
	// A packed entry keeps a result per command.
	tr.advance([]span{{index: 6, from: 1, n: 2, packed: true}}, []state.Result{{Value: "x"}, {Value: "a"}, {Value: "b"}}, 6)
	if r, ok := tr.result(position{index: 6, sub: 1}); !ok || r.Value != "b" {
		t.Fatalf("result 6/1: %v %v", r, ok)
	}
	if _, ok := tr.result(position{index: 6, sub: 2}); ok {
		t.Fatal("a result past the end of a packed entry")
	}
	if _, ok := tr.result(at(3)); ok {
		t.Fatal("a result applied with no hold was kept")
	}
	if _, ok := tr.result(at(7)); ok {
		t.Fatal("a result for an index not yet applied")
	}
	// Overwritten by a later lap of the ring.
	tr.advance(one(5+resultRing), []state.Result{{Value: "lap"}}, 5+resultRing)
	if _, ok := tr.result(at(5)); ok {
		t.Fatal("an overwritten result was returned")
	}
	tr.release()
	// A snapshot install wakes waiters without results.
	go func() { done <- tr.wait(context.Background(), 3*resultRing) }()
	time.Sleep(10 * time.Millisecond)
	tr.restored(4 * resultRing)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, ok := tr.result(at(3 * resultRing)); ok {
		t.Fatal("a result survived a snapshot install")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tr.wait(ctx, 5*resultRing); err != context.Canceled {
		t.Fatalf("cancelled wait: %v", err)
	}
}
