package replica

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// Concurrent writers, on the leader and through a follower, share Raft
// entries; each still gets its own result, and every replica ends with the
// same state and an audit chain that rebuilds it.
func TestConcurrentProposalsShareEntries(t *testing.T) {
	c, l, f, fs := countyCluster(t)
	ls := c.store(l)
	ctx := context.Background()
	first, _ := l.logs.LastIndex()
	const writers, each = 48, 10
	var mu sync.Mutex
	ids := map[string]bool{}
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for w := range writers {
		s := ls
		if w%2 == 1 {
			s = fs
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				ev, err := s.Events.Report(ctx, model.Report{Category: "dispute", Description: fmt.Sprintf("writer %d report %d", w, i), Grid: "511083001001001"})
				if err != nil {
					errc <- err
					return
				}
				if want := fmt.Sprintf("writer %d report %d", w, i); ev.Description != want {
					errc <- fmt.Errorf("got the result of %q for %q", ev.Description, want)
					return
				}
				mu.Lock()
				ids[ev.ID] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if len(ids) != writers*each {
		t.Fatalf("%d distinct events for %d reports", len(ids), writers*each)
	}
	last, _ := l.logs.LastIndex()
	if entries := last - first; entries >= writers*each {
		t.Fatalf("%d reports took %d Raft entries: nothing was packed", writers*each, entries)
	} else {
		t.Logf("%d reports in %d Raft entries", writers*each, entries)
	}
	c.converged(l)
	if fig, _ := c.store(f).Events.Figures("511083", "", ""); fig.Reported != writers*each {
		t.Fatalf("follower counts %d", fig.Reported)
	}
	if err := f.Engine.VerifyState(t.TempDir(), nil); err != nil {
		t.Fatal(err)
	}
}

// A malformed packed entry reaches the FSM as one command that does not
// decode: rejected the same way on every replica, with nothing changed.
func TestMalformedPackedEntryIsRejected(t *testing.T) {
	c, l, _, _ := countyCluster(t)
	before := c.converged(l)
	good := EncodeBatch([][]byte{[]byte("a"), []byte("b")})
	f := l.Raft.Apply(good[:len(good)-1], 5*time.Second)
	if err := f.Error(); err != nil {
		t.Fatal(err)
	}
	res, ok := f.Response().(state.Result)
	if !ok || !errors.Is(res.Err, errs.ErrInvalid) {
		t.Fatalf("response %#v", f.Response())
	}
	// A well-formed packed entry of junk: a rejection per command.
	f = l.Raft.Apply(good, 5*time.Second)
	if err := f.Error(); err != nil {
		t.Fatal(err)
	}
	rs, ok := f.Response().([]state.Result)
	if !ok || len(rs) != 2 || !errors.Is(rs[0].Err, errs.ErrInvalid) || !errors.Is(rs[1].Err, errs.ErrInvalid) {
		t.Fatalf("response %#v", f.Response())
	}
	if after := c.converged(l); after != before {
		t.Fatal("rejected entries changed the state")
	}
}

// Proposals still queued when the replica closes are refused, never lost
// in silence, and none reaches Raft.
func TestCoalescerRefusesQueuedOnClose(t *testing.T) {
	c := newCoalescer(nil, time.Second) // no Raft: nothing may reach it
	for range inFlight {
		c.slots <- struct{}{} // every entry slot busy
	}
	var outs []<-chan answer
	for range 3 {
		out, err := c.submit(context.Background(), [][]byte{[]byte("cmd")})
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out)
	}
	c.close()
	for i, out := range outs {
		if a := <-out; !errors.Is(a.err, errCoalescerClosed) {
			t.Fatalf("proposal %d: %+v", i, a)
		}
	}
	if _, err := c.submit(context.Background(), [][]byte{[]byte("cmd")}); !errors.Is(err, errCoalescerClosed) {
		t.Fatalf("submit after close: %v", err)
	}
}

// stuckFuture is a future Raft dropped at shutdown: it answers only when the
// test lets it go.
type stuckFuture struct{ release chan struct{} }

func (f stuckFuture) Error() error { <-f.release; return nil }

// Raft drops the futures of entries it committed but had not applied when it
// shuts down (hashicorp/raft#498). Once the replica says Raft is down, a
// waiter returns at once instead of waiting out its limit.
func TestWaitFutureReturnsWhenRaftIsDown(t *testing.T) {
	down := make(chan struct{})
	stuck := stuckFuture{release: make(chan struct{})}
	defer close(stuck.release)
	got := make(chan error, 1)
	go func() { got <- waitFuture(stuck, time.Minute, down) }()
	select {
	case err := <-got:
		t.Fatalf("returned before Raft was down: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	t0 := time.Now()
	close(down)
	select {
	case err := <-got:
		if !errors.Is(err, raft.ErrRaftShutdown) {
			t.Fatalf("got %v, want ErrRaftShutdown", err)
		}
		if d := time.Since(t0); d > time.Second {
			t.Fatalf("took %v after Raft was down", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still waiting 5 s after Raft was down")
	}

}
