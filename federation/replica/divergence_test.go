package replica

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// writeEntries writes n reports through the leader's Raft, one entry each.
func writeEntries(t *testing.T, l *Replica, s *core.Store, n int) {
	t.Helper()
	cmd, err := s.Events.ReportCommand(context.Background(), model.Report{Category: "dispute", Description: "checkpointed", Grid: "511083001001001"})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := cmd.Encode()
	var last raft.ApplyFuture
	for i := 0; i < n; i++ {
		last = l.Raft.Apply(data, 10*time.Second)
	}
	if err := last.Error(); err != nil {
		t.Fatal(err)
	}
}

// checkpointed starts three replicas checking every interval and writes
// past two checkpoints through the leader.
func checkpointed(t *testing.T, interval time.Duration) (*cluster, *Replica, *core.Store) {
	t.Helper()
	c := newCluster(t, 3, Config{CheckInterval: interval})
	l := c.leader()
	s := c.store(l)
	if _, err := s.Jurisdictions.LoadCounty(context.Background(), "511083", 1); err != nil {
		t.Fatal(err)
	}
	writeEntries(t, l, s, 2*state.CheckpointEvery+10)
	c.converged(l)
	return c, l, s
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
	}
}

// A follower that applied a command the log does not hold finds out at
// the next checkpoint, by itself; the other follower keeps agreeing.
func TestFollowerDetectsDivergence(t *testing.T) {
	c, l, s := checkpointed(t, 50*time.Millisecond)
	var followers []*Replica
	for _, r := range c.reps {
		if r != l {
			followers = append(followers, r)
		}
	}
	for _, f := range followers {
		eventually(t, f.ID+" agrees at a checkpoint", func() bool {
			idx, err := f.CheckLeader(context.Background())
			return err == nil && idx >= 2*state.CheckpointEvery
		})
	}
	if idx, err := l.CheckLeader(context.Background()); idx != 0 || err != nil {
		t.Fatalf("leader checked itself: %d, %v", idx, err)
	}

	bad, good := followers[0], followers[1]
	applied := inject(t, bad, s)
	if bad.Diverged() != nil {
		t.Fatal("diverged before any checkpoint after the injected command")
	}
	writeEntries(t, l, s, state.CheckpointEvery+10)
	eventually(t, "the follower notices", func() bool { return bad.Diverged() != nil })
	var de *DivergenceError
	if err := bad.Diverged(); !errors.Is(err, ErrDiverged) || !errors.As(err, &de) || de.Index <= applied || de.Head == de.TheirHead {
		t.Fatalf("divergence report: %v", err)
	}
	// It skipped the leader's entry at that index as already applied: as
	// many records, one of them different.
	if de.Seq != de.TheirSeq {
		t.Fatalf("audit records: %d here, %d on the leader", de.Seq, de.TheirSeq)
	}
	eventually(t, "the other follower agrees past it", func() bool {
		idx, err := good.CheckLeader(context.Background())
		return err == nil && idx >= de.Index
	})
	if good.Diverged() != nil {
		t.Fatalf("the healthy follower reports %v", good.Diverged())
	}
	// The leader's own check sides with the majority: it stays leader and
	// sound, and the odd follower stays flagged.
	idx, err := l.CheckVoters(context.Background())
	if err != nil || idx < de.Index {
		t.Fatalf("leader's voter check: %d, %v", idx, err)
	}
	if !l.IsLeader() || l.Diverged() != nil || bad.Diverged() == nil {
		t.Fatalf("after the voter check: leader %v, leader diverged %v, odd follower %v", l.IsLeader(), l.Diverged(), bad.Diverged())
	}
}

// inject applies a report to r's engine alone, at the next index: the
// entry Raft later delivers there is skipped as already applied.
func inject(t *testing.T, r *Replica, s *core.Store) uint64 {
	t.Helper()
	applied, _ := r.Engine.AppliedIndex()
	cmd, err := s.Events.ReportCommand(context.Background(), model.Report{Category: "dispute", Description: "only on one replica", Grid: "511083001001001"})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := cmd.Encode()
	res, err := r.Engine.ApplyBatch([]state.Entry{{Index: applied + 1, Data: data}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("inject: %v %v", err, res)
	}
	return applied
}

// A leader that diverged is outvoted: the followers' own checks first flag
// them, wrongly; the leader's check finds both agreeing against it, flags
// itself and hands leadership to one of them; the followers' flags are
// withdrawn when the new leader agrees with them, and the old leader's
// stays. The checks are driven by hand here; the next test runs the loop.
func TestDivergedLeaderIsOutvoted(t *testing.T) {
	c, l, s := checkpointed(t, -1)
	injected := inject(t, l, s)
	writeEntries(t, l, s, state.CheckpointEvery+10)
	c.caughtUp(l)

	var followers []*Replica
	for _, r := range c.reps {
		if r != l {
			followers = append(followers, r)
		}
	}
	for _, f := range followers {
		if _, err := f.CheckLeader(context.Background()); !errors.Is(err, ErrDiverged) {
			t.Fatalf("%s against the diverged leader: %v", f.ID, err)
		}
	}
	_, err := l.CheckVoters(context.Background())
	var de *DivergenceError
	if !errors.As(err, &de) || !de.Led || de.Index <= injected || de.Seq != de.TheirSeq || de.Head == de.TheirHead ||
		!slices.Equal(de.Against, []string{min(followers[0].ID, followers[1].ID), max(followers[0].ID, followers[1].ID)}) {
		t.Fatalf("leader's voter check: %+v", err)
	}
	if !errors.Is(l.Diverged(), ErrDiverged) {
		t.Fatalf("the leader did not record its divergence: %v", l.Diverged())
	}
	var nl *Replica
	eventually(t, "leadership moves to a follower", func() bool {
		for _, f := range followers {
			if f.IsLeader() {
				nl = f
			}
		}
		return nl != nil && !l.IsLeader()
	})
	ns := c.store(nl)
	writeEntries(t, nl, ns, state.CheckpointEvery+10)
	c.caughtUp(nl)
	for _, f := range followers {
		check := f.CheckLeader
		if f == nl {
			check = f.CheckVoters
		}
		if _, err := check(context.Background()); err != nil || f.Diverged() != nil {
			t.Fatalf("%s after the new leader's writes: %v, diverged %v", f.ID, err, f.Diverged())
		}
	}
	if _, err := l.CheckLeader(context.Background()); !errors.Is(err, ErrDiverged) || !errors.Is(l.Diverged(), ErrDiverged) {
		t.Fatalf("the old leader against the new one: %v, diverged %v", err, l.Diverged())
	}
	if !errors.As(l.Diverged(), &de) || !de.Led {
		t.Fatalf("the old leader's record: %v", l.Diverged())
	}
}

// The same with the checks on their timers: the group ends with a sound
// leader, sound followers, and the diverged replica flagged and following.
func TestDivergedLeaderStepsDown(t *testing.T) {
	c, l, s := checkpointed(t, 50*time.Millisecond)
	inject(t, l, s)
	writeEntries(t, l, s, state.CheckpointEvery+10)
	eventually(t, "the diverged leader steps down", func() bool { return !l.IsLeader() && l.Diverged() != nil })
	nl := c.leader()
	if nl == l {
		t.Fatal("the diverged replica leads again")
	}
	writeEntries(t, nl, c.store(nl), state.CheckpointEvery+10)
	eventually(t, "the sound replicas clear their flags", func() bool {
		for _, r := range c.reps {
			if r != l && r.Diverged() != nil {
				return false
			}
		}
		return true
	})
	if !errors.Is(l.Diverged(), ErrDiverged) || l.IsLeader() {
		t.Fatalf("the diverged replica: leads %v, %v", l.IsLeader(), l.Diverged())
	}
}

// A follower that knows it diverged and then wins leadership checks the
// voters as soon as it leads, not at its next tick (an hour away here), and
// hands leadership back.
func TestFlaggedReplicaHandsBackLeadershipAtOnce(t *testing.T) {
	c, l, s := checkpointed(t, time.Hour)
	var f *Replica
	for _, r := range c.reps {
		if r != l {
			f = r
			break
		}
	}
	inject(t, f, s)
	writeEntries(t, l, s, state.CheckpointEvery+10)
	c.caughtUp(l)
	if _, err := f.CheckLeader(context.Background()); !errors.Is(err, ErrDiverged) {
		t.Fatalf("%s against the leader: %v", f.ID, err)
	}
	for _, srv := range c.boot {
		if string(srv.ID) == f.ID {
			if err := l.Raft.LeadershipTransferToServer(srv.ID, srv.Address).Error(); err != nil {
				t.Fatal(err)
			}
		}
	}
	var de *DivergenceError
	eventually(t, "the flagged replica hands leadership back", func() bool {
		others := 0
		for _, r := range c.reps {
			if r != f && r.IsLeader() {
				others++
			}
		}
		return errors.As(f.Diverged(), &de) && de.Led && !f.IsLeader() && others == 1
	})
	for _, r := range c.reps {
		if r != f && r.Diverged() != nil && !slices.Equal(r.Diverged().(*DivergenceError).Against, []string{f.ID}) {
			t.Fatalf("%s flagged against more than the diverged leader: %v", r.ID, r.Diverged())
		}
	}
}

func TestMajority(t *testing.T) {
	x := state.Checkpoint{Seq: 5, Head: []byte("x")}
	y := state.Checkpoint{Seq: 5, Head: []byte("y")}
	for _, tc := range []struct {
		heads map[string]state.Checkpoint
		need  int
		want  []string
	}{
		{map[string]state.Checkpoint{"a": x, "b": y}, 2, nil},
		{map[string]state.Checkpoint{"a": x, "b": y, "c": y}, 2, []string{"b", "c"}},
		{map[string]state.Checkpoint{"a": x, "b": y, "c": {Seq: 6, Head: []byte("y")}}, 2, nil},
		{map[string]state.Checkpoint{"a": x, "b": x, "c": y, "d": y, "e": y}, 3, []string{"c", "d", "e"}},
		{map[string]state.Checkpoint{"a": x}, 1, []string{"a"}},
	} {
		_, got, ok := majority(tc.heads, tc.need)
		if ok != (tc.want != nil) || !slices.Equal(got, tc.want) {
			t.Errorf("majority(%v, %d) = %v, %v; want %v", tc.heads, tc.need, got, ok, tc.want)
		}
	}
}
