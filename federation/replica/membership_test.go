package replica

import (
	"errors"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
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
	if err := l.TransferLeadership("r3"); errs.Field(err) != "id" {
		t.Fatalf("transfer to a non-voter: %v", err)
	}
	if err := l.Join("r3", string(n.Addr), true); err != nil {
		t.Fatal(err)
	}
	// Hand leadership to r3 explicitly.
	if err := l.TransferLeadership("r3"); err != nil {
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
