package replica

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/state"
)

// followersInOrder returns the followers of l in configuration order: on
// a tie Raft hands leadership to the first, so a test that puts the
// diverged one first would catch a hand-over that does not skip it.
func followersInOrder(c *cluster, l *Replica) []*Replica {
	var out []*Replica
	for _, s := range c.boot {
		if r := c.reps[string(s.ID)]; r != l {
			out = append(out, r)
		}
	}
	return out
}

// divergedFollower is checkpointed with a command applied on the first
// follower alone, and a checkpoint written past it.
func divergedFollower(t *testing.T, interval time.Duration) (c *cluster, l, bad, good *Replica) {
	t.Helper()
	c, l, s := checkpointed(t, interval)
	fs := followersInOrder(c, l)
	bad, good = fs[0], fs[1]
	inject(t, bad, s)
	writeEntries(t, l, s, state.CheckpointEvery+10)
	c.caughtUp(l)
	return c, l, bad, good
}

func divergedAt(t *testing.T, r *Replica, id string) uint64 {
	t.Helper()
	peers, err := r.Peers()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range peers {
		if p.ID == id {
			return p.DivergedAt
		}
	}
	t.Fatalf("%s does not list %s", r.ID, id)
	return 0
}

// The leader remembers which voter its check outvoted: it refuses to hand
// leadership to it, picks a sound voter when asked for any, and lists it as
// diverged. Forcing the transfer still works, and the diverged leader then
// hands back; removing the voter forgets it.
func TestLeaderWithholdsLeadershipFromDivergedVoter(t *testing.T) {
	c, l, bad, good := divergedFollower(t, -1)

	if err := l.TransferLeadership(bad.ID, false); err != nil {
		t.Fatalf("before any check the leader knows nothing against %s: %v", bad.ID, err)
	}
	eventually(t, bad.ID+" leads", bad.IsLeader)
	if err := bad.TransferLeadership(l.ID, false); err != nil {
		t.Fatal(err)
	}
	eventually(t, l.ID+" leads again", l.IsLeader)

	idx, err := l.CheckVoters(context.Background())
	if err != nil {
		t.Fatalf("voter check: %v", err)
	}
	if got := divergedAt(t, l, bad.ID); got != idx {
		t.Fatalf("leader lists %s diverged at %d, want %d", bad.ID, got, idx)
	}
	if divergedAt(t, l, good.ID) != 0 || divergedAt(t, l, l.ID) != 0 {
		t.Fatal("a sound replica listed as diverged")
	}

	err = l.TransferLeadership(bad.ID, false)
	if !errors.Is(err, ErrPeerDiverged) || !errors.Is(err, errs.ErrConflict) || errs.Field(err) != "id" {
		t.Fatalf("transfer to the diverged voter: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // a transfer would have landed by now
	if !l.IsLeader() || bad.IsLeader() {
		t.Fatal("the refused transfer moved leadership")
	}

	if err := l.TransferLeadership("", false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "leadership moves to the sound voter", good.IsLeader)
	if bad.IsLeader() {
		t.Fatal("the diverged voter leads")
	}
	// A follower does not list others from a term it no longer leads; the
	// diverged replica lists itself once its own check has found out.
	if divergedAt(t, l, bad.ID) != 0 {
		t.Fatal("the former leader still lists its old finding")
	}
	eventually(t, bad.ID+" finds it differs from the new leader", func() bool {
		_, err := bad.CheckLeader(context.Background())
		return errors.Is(err, ErrDiverged)
	})
	if divergedAt(t, bad, bad.ID) == 0 {
		t.Fatal("the diverged replica does not list itself")
	}

	if _, err := good.CheckVoters(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := good.TransferLeadership(bad.ID, true); err != nil {
		t.Fatalf("forced transfer: %v", err)
	}
	eventually(t, "the forced transfer lands", bad.IsLeader)
	if _, err := bad.CheckVoters(context.Background()); !errors.Is(err, ErrDiverged) {
		t.Fatalf("the diverged leader's check: %v", err)
	}
	eventually(t, "the diverged leader hands back", func() bool { return !bad.IsLeader() && (l.IsLeader() || good.IsLeader()) })

	nl := c.leader()
	if _, err := nl.CheckVoters(context.Background()); err != nil {
		t.Fatal(err)
	}
	if divergedAt(t, nl, bad.ID) == 0 {
		t.Fatal("the new leader's check missed the diverged voter")
	}
	if err := nl.Remove(bad.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := nl.divergedPeers()[bad.ID]; ok {
		t.Fatal("a removed voter is still remembered")
	}
}

// A new leader checks the voters as it takes over, not at its next tick
// (an hour away here), so it knows at once which one not to hand over to.
func TestNewLeaderLearnsDivergedVotersAtOnce(t *testing.T) {
	_, l, bad, good := divergedFollower(t, time.Hour)
	if err := l.TransferLeadership(good.ID, false); err != nil {
		t.Fatal(err)
	}
	eventually(t, good.ID+" leads and knows "+bad.ID+" diverged", func() bool {
		return good.IsLeader() && good.divergedPeers()[bad.ID] != 0
	})
	if err := good.TransferLeadership(bad.ID, false); !errors.Is(err, ErrPeerDiverged) {
		t.Fatalf("transfer to the diverged voter: %v", err)
	}
}

func TestNextSuspects(t *testing.T) {
	x := state.Checkpoint{Seq: 5, Head: []byte("x")}
	y := state.Checkpoint{Seq: 5, Head: []byte("y")}
	voters := []raft.Server{{ID: "a"}, {ID: "b"}, {ID: "c"}}
	for _, tc := range []struct {
		name  string
		prev  suspects
		heads map[string]state.Checkpoint
		want  suspects
	}{
		{"all agree", nil, map[string]state.Checkpoint{"a": x, "b": x, "c": x}, suspects{}},
		{"one differs", nil, map[string]state.Checkpoint{"a": x, "b": x, "c": y}, suspects{"c": 9}},
		{"silent keeps its finding", suspects{"c": 3}, map[string]state.Checkpoint{"a": x, "b": x}, suspects{"c": 3}},
		{"agreeing clears it", suspects{"c": 3}, map[string]state.Checkpoint{"a": x, "b": x, "c": x}, suspects{}},
		{"a newer finding replaces it", suspects{"c": 3}, map[string]state.Checkpoint{"a": x, "b": x, "c": y}, suspects{"c": 9}},
		{"a voter that left is dropped", suspects{"d": 3}, map[string]state.Checkpoint{"a": x, "b": x}, suspects{}},
	} {
		if got := nextSuspects(tc.prev, voters, tc.heads, x, 9); !maps.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A stopping leader hands over to a sound voter, not to the diverged one
// Raft would pick on a tie.
func TestStoppingLeaderSkipsDivergedVoter(t *testing.T) {
	_, l, bad, good := divergedFollower(t, -1)
	if _, err := l.CheckVoters(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the sound voter leads", func() bool { return good.IsLeader() || bad.IsLeader() })
	if bad.IsLeader() {
		t.Fatal("the stopping leader handed over to the diverged voter")
	}
}
