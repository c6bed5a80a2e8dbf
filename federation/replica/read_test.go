package replica

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
)

func waitReady(t *testing.T, r *Replica) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		err := r.ReadBarrier()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("leader never became ready: %v", err)
		}
	}
}

func TestReadBarrier(t *testing.T) {
	c := newCluster(t, 3, Config{})
	l := c.leader()
	waitReady(t, l)
	s := c.store(l)
	if _, err := s.Jurisdictions.LoadCounty(context.Background(), "511083", 1); err != nil {
		t.Fatal(err)
	}
	ev, err := s.Events.Report(context.Background(), model.Report{Category: "dispute", Description: "x", Grid: "511083001001001"})
	if err != nil {
		t.Fatal(err)
	}
	// Linearizable read on the leader: barrier, then the local state has the write.
	if err := l.ReadBarrier(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Events.Get(ev.ID); err != nil {
		t.Fatalf("leader read after its own write: %v", err)
	}
	// A follower refuses a consistent read but may serve a stale one.
	var f *Replica
	for _, r := range c.reps {
		if r != l {
			f = r
		}
	}
	var nl *ErrNotLeader
	if err := f.ReadBarrier(); !errors.As(err, &nl) || nl.Leader != l.Addr {
		t.Fatalf("follower barrier: %v", err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := c.store(f).Events.Get(ev.ID); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("stale read on the follower never saw the write")
		}
	}
	// Cut the leader off from both followers: it must stop serving
	// consistent reads rather than answer from a state that may be stale.
	for id, r := range c.reps {
		if r != l {
			r.Close()
			delete(c.reps, id)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if err := l.ReadBarrier(); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an isolated leader kept serving consistent reads")
		}
	}
}

func TestNewLeaderSeesAcknowledgedWrites(t *testing.T) {
	c := newCluster(t, 3, Config{})
	l := c.leader()
	s := c.store(l)
	if _, err := s.Jurisdictions.LoadCounty(context.Background(), "511083", 1); err != nil {
		t.Fatal(err)
	}
	var last string
	for i := 0; i < 100; i++ {
		ev, err := s.Events.Report(context.Background(), model.Report{Category: "dispute", Description: "x", Grid: "511083001001001"})
		if err != nil {
			t.Fatal(err)
		}
		last = ev.ID
	}
	if err := l.Raft.LeadershipTransfer().Error(); err != nil {
		t.Fatal(err)
	}
	var l2 *Replica
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		for _, r := range c.reps {
			if r != l && r.ReadBarrier() == nil {
				l2 = r
			}
		}
		if l2 != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no new leader became ready")
		}
	}
	// Every write the old leader acknowledged is visible to a consistent read.
	if _, err := c.store(l2).Events.Get(last); err != nil {
		t.Fatalf("new leader misses an acknowledged write: %v", err)
	}
	if f, _ := c.store(l2).Events.Figures("511083", "", ""); f.Reported != 100 {
		t.Fatalf("new leader figures: %d", f.Reported)
	}
}
