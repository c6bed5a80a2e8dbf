package replica

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core"
)

// writeEntries writes n reports through the leader's Raft, one entry each.
func writeEntries(t *testing.T, l *Replica, s *core.Store, n int) {
	t.Helper()
	cmd, err := s.Events.ReportCommand(context.Background(), core.Report{Category: "dispute", Description: "checkpointed", Grid: "511083001001001"})
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
	c := newCluster(t, 3, Config{CheckInterval: 50 * time.Millisecond})
	l := c.leader()
	s := c.store(l)
	if _, err := s.Jurisdictions.LoadCounty(context.Background(), "511083", 1); err != nil {
		t.Fatal(err)
	}
	writeEntries(t, l, s, 2*core.CheckpointEvery+10)
	c.converged(l)
	var followers []*Replica
	for _, r := range c.reps {
		if r != l {
			followers = append(followers, r)
		}
	}
	for _, f := range followers {
		eventually(t, f.ID+" agrees at a checkpoint", func() bool {
			idx, err := f.CheckLeader(context.Background())
			return err == nil && idx >= 2*core.CheckpointEvery
		})
	}
	if idx, err := l.CheckLeader(context.Background()); idx != 0 || err != nil {
		t.Fatalf("leader checked itself: %d, %v", idx, err)
	}

	bad, good := followers[0], followers[1]
	applied, _ := bad.Engine.AppliedIndex()
	cmd, err := s.Events.ReportCommand(context.Background(), core.Report{Category: "dispute", Description: "only on one replica", Grid: "511083001001001"})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := cmd.Encode()
	res, err := bad.Engine.ApplyBatch([]core.Entry{{Index: applied + 1, Data: data}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("inject: %v %v", err, res)
	}
	if bad.Diverged() != nil {
		t.Fatal("diverged before any checkpoint after the injected command")
	}
	writeEntries(t, l, s, core.CheckpointEvery+10)
	eventually(t, "the follower notices", func() bool { return bad.Diverged() != nil })
	var de *DivergenceError
	if err := bad.Diverged(); !errors.Is(err, ErrDiverged) || !errors.As(err, &de) || de.Index <= applied || de.Head == de.LeaderHead {
		t.Fatalf("divergence report: %v", err)
	}
	// It skipped the leader's entry at that index as already applied: as
	// many records, one of them different.
	if de.Seq != de.LeaderSeq {
		t.Fatalf("audit records: %d here, %d on the leader", de.Seq, de.LeaderSeq)
	}
	eventually(t, "the other follower agrees past it", func() bool {
		idx, err := good.CheckLeader(context.Background())
		return err == nil && idx >= de.Index
	})
	if good.Diverged() != nil {
		t.Fatalf("the healthy follower reports %v", good.Diverged())
	}
}
