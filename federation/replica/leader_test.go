package replica

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/model"
)

// TestLeaderLoopsSurviveFailover runs the loops on every replica, forces a
// leadership transfer while events fall overdue, and checks that every event
// is marked overdue exactly once.
func TestLeaderLoopsSurviveFailover(t *testing.T) {
	c := newCluster(t, 3, Config{})
	l := c.leader()
	s := c.store(l)
	ctx := context.Background()
	if _, err := s.Jurisdictions.LoadCounty(ctx, "511083", 1); err != nil {
		t.Fatal(err)
	}
	// Half the events are 特急 (due in one working day), half 一般 (five).
	var ids []string
	for i := 0; i < 40; i++ {
		u := model.UrgencyCritical
		if i%2 == 1 {
			u = model.UrgencyNormal
		}
		ev, err := s.Events.Report(ctx, model.Report{Category: "dispute", Description: "x", Grid: "511083001001001", Urgency: u})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	first, _ := s.Events.Get(ids[0])
	second, _ := s.Events.Get(ids[1])
	// A shared clock, first between the two deadlines.
	var now atomic.Int64
	now.Store(first.Deadline.Add(time.Minute).UnixNano())
	if !time.Unix(0, now.Load()).Before(second.Deadline) {
		t.Fatalf("deadlines too close: %s and %s", first.Deadline, second.Deadline)
	}
	clock := func() time.Time { return time.Unix(0, now.Load()) }

	lctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, r := range c.reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.RunLeaderLoops(lctx, core.New(r.Engine, r.Proposer(), core.Options{Keyring: c.keys, Clock: clock}), core.JobOptions{Tick: 10 * time.Millisecond, Scale: 1e-4})
		}()
	}
	waitOverdue := func(want int64) *Replica {
		deadline := time.Now().Add(15 * time.Second)
		for {
			lead := c.leader()
			f, err := c.store(lead).Events.Figures("511083", "", "")
			if err == nil && f.Overdue == want {
				return lead
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d events marked overdue", f.Overdue, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitOverdue(20) // the first leader's loops marked the 特急 half
	if err := l.Raft.LeadershipTransfer().Error(); err != nil {
		t.Fatal(err)
	}
	now.Store(second.Deadline.Add(time.Minute).UnixNano())
	l2 := waitOverdue(40) // the new leader's loops mark the rest
	cancel()
	wg.Wait()
	if l2 == l {
		t.Fatal("leadership did not move")
	}
	c.converged(l2)
	for _, id := range ids {
		tl, err := c.store(l2).Events.Timeline(id)
		if err != nil {
			t.Fatal(err)
		}
		marks := 0
		for _, e := range tl {
			if e.Action == "overdue" {
				marks++
			}
		}
		if marks != 1 {
			t.Fatalf("event %s marked overdue %d times", id, marks)
		}
	}
}
