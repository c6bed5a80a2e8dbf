package replica

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

func TestGroupMembership(t *testing.T) {
	c := newCluster(t, 3, Config{})
	l := c.leader()
	peers, err := l.Peers()
	if err != nil || len(peers) != 3 {
		t.Fatalf("peers: %+v %v", peers, err)
	}
	leaders := 0
	for _, p := range peers {
		if p.Leader {
			leaders++
		}
	}
	if leaders != 1 {
		t.Fatalf("%d leaders in %+v", leaders, peers)
	}
	// Bad input is refused and changes nothing.
	for _, bad := range []struct{ id, addr, field string }{{"", "127.0.0.1:1", "id"}, {"x", "nowhere", "address"}, {"x", string(peers[0].Address), "address"}} {
		if err := l.Join(bad.id, bad.addr, true); errs.Field(err) != bad.field {
			t.Errorf("join %+v: %v", bad, err)
		}
	}
	if err := l.Remove("ghost"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("remove unknown: %v", err)
	}
	// A follower refuses membership changes.
	for _, r := range c.reps {
		if r != l {
			var nl *ErrNotLeader
			if err := r.Join("r9", "127.0.0.1:1", true); !errors.As(err, &nl) {
				t.Fatalf("follower join: %v", err)
			}
			break
		}
	}
	// A non-voter joins, cannot be made leader, then becomes a voter.
	n := c.start("r3", "127.0.0.1:0", Config{})
	if err := l.Join("r3", string(n.Addr), false); err != nil {
		t.Fatal(err)
	}
	if err := l.Join("r3", string(n.Addr), false); err != nil {
		t.Fatalf("joining twice is not idempotent: %v", err)
	}
	if err := l.TransferLeadership("r3", false); errs.Field(err) != "id" {
		t.Fatalf("transfer to a non-voter: %v", err)
	}
	if err := l.Join("r3", string(n.Addr), true); err != nil {
		t.Fatal(err)
	}
	// Hand leadership to r3 explicitly.
	if err := l.TransferLeadership("r3", false); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !n.IsLeader(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("r3 did not take leadership")
		}
	}
	// The new leader removes the old one.
	if err := n.Remove(l.ID); err != nil {
		t.Fatal(err)
	}
	peers, _ = n.Peers()
	if len(peers) != 3 {
		t.Fatalf("after remove: %+v", peers)
	}
	for _, p := range peers {
		if p.ID == l.ID {
			t.Fatal("removed peer still listed")
		}
	}
}

// A leader that closes hands leadership over first: the election that
// follows is a transfer (its vote requests say so), not one started by a
// follower whose election timer ran out, and no acknowledged write is lost.
func TestCloseHandsLeadershipOver(t *testing.T) {
	c, l, _, _ := countyCluster(t)
	ch := make(chan raft.Observation, 64)
	var followers []*Replica
	for _, r := range c.reps {
		if r != l {
			obs := raft.NewObserver(ch, false, func(o *raft.Observation) bool {
				_, ok := o.Data.(raft.RequestVoteRequest)
				return ok
			})
			r.Raft.RegisterObserver(obs)
			defer r.Raft.DeregisterObserver(obs)
			followers = append(followers, r)
		}
	}
	term := l.Term()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	delete(c.reps, l.ID)
	var next *Replica
	for deadline := time.Now().Add(10 * time.Second); next == nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no new leader")
		}
		for _, f := range followers {
			if f.IsLeader() {
				next = f
			}
		}
	}
	transfer := false
	for len(ch) > 0 {
		o := <-ch
		transfer = transfer || o.Data.(raft.RequestVoteRequest).LeadershipTransfer
	}
	if !transfer {
		t.Fatal("the new leader was elected without a leadership transfer")
	}
	if next.Term() != term+1 {
		t.Fatalf("term %d after a transfer from term %d: elections were lost on the way", next.Term(), term)
	}
	// The survivors still serve writes, and the county loaded before is there.
	if _, err := c.store(next).Events.Report(context.Background(), model.Report{Category: "dispute", Description: "交接后", Grid: "511083001001001", Source: "resident"}); err != nil {
		t.Fatalf("write after the hand-over: %v", err)
	}
}

// A lone replica has nobody to hand over to and does not try.
func TestCloseAloneSkipsTheHandOver(t *testing.T) {
	var logs bytes.Buffer
	c := newCluster(t, 1, Config{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	l := c.leader()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	delete(c.reps, l.ID)
	if strings.Contains(logs.String(), "leadership") {
		t.Fatalf("a lone replica tried to hand leadership over:\n%s", logs.String())
	}
}
