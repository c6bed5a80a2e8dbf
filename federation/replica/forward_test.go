package replica

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// countyCluster starts three replicas with a county loaded and returns the
// leader, a follower and a forwarding store on that follower.
func countyCluster(t *testing.T) (*cluster, *Replica, *Replica, *core.Store) {
	c := newCluster(t, 3, Config{})
	l := c.leader()
	if _, err := c.store(l).Jurisdictions.LoadCounty(context.Background(), "511083", 1); err != nil {
		t.Fatal(err)
	}
	f := c.follower(l)
	return c, l, f, core.New(f.Engine, f.ForwardingProposer(), core.Options{Keyring: c.keys})
}

func (c *cluster) follower(l *Replica) *Replica {
	for _, r := range c.reps {
		if r != l {
			return r
		}
	}
	c.t.Fatal("no follower")
	return nil
}

// A follower's forwarding store writes through the leader and returns the
// result of its own apply, so the write is readable on it at once; a bad
// command is rejected the same way it is on the leader.
func TestFollowerForwardsWrites(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	c, l, f, fs := countyCluster(t)
	ctx := context.Background()
	for i := range 20 {
		ev, err := fs.Events.Report(ctx, model.Report{Category: "dispute", Description: "through a follower", Grid: "511083001001001"})
		if err != nil {
			t.Fatalf("report %d: %v", i, err)
		}
		got, err := fs.Events.Get(ev.ID) // read-your-write on the follower
		if err != nil || got.ID != ev.ID || got.Description != "through a follower" {
			t.Fatalf("follower lacks its own write: %+v %v", got, err)
		}
	}
	before := c.converged(l)
	_, err := fs.Events.Report(ctx, model.Report{Category: "dispute", Description: "nowhere", Grid: "511083999999999"})
	if !errors.Is(err, errs.ErrNotFound) || errs.Field(err) != "grid" {
		t.Fatalf("bad grid through a follower: %v", err)
	}
	if after := c.converged(l); after != before {
		t.Fatal("a rejected forwarded command changed the state")
	}
	if fig, _ := c.store(l).Events.Figures("511083", "", ""); fig.Reported != 20 {
		t.Fatalf("leader has %d events, want 20", fig.Reported)
	}
	// The leader-only proposer still refuses on a follower.
	var nl *ErrNotLeader
	if _, err := c.store(f).Events.Report(ctx, model.Report{Category: "dispute", Description: "x", Grid: "511083001001001"}); !errors.As(err, &nl) {
		t.Fatalf("leader-only proposer on a follower: %v", err)
	}
	for id, r := range c.reps {
		r.Close()
		delete(c.reps, id)
	}
}

// CatchUp makes a write acknowledged by the leader visible on a follower.
func TestCatchUpSeesLeaderWrites(t *testing.T) {
	c := newCluster(t, 3, Config{})
	l := c.leader()
	s := c.store(l)
	if _, err := s.Jurisdictions.LoadCounty(context.Background(), "511083", 1); err != nil {
		t.Fatal(err)
	}
	f := c.follower(l)
	fs := c.store(f)
	for range 20 {
		ev, err := s.Events.Report(context.Background(), model.Report{Category: "dispute", Description: "x", Grid: "511083001001001"})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.CatchUp(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := fs.Events.Get(ev.ID); err != nil {
			t.Fatalf("after CatchUp the follower lacks %s: %v", ev.ID, err)
		}
	}
}

// Garbage on the forwarding port closes that connection and changes
// nothing; forwarding keeps working for well-formed peers.
func TestForwardingRejectsMalformedFrames(t *testing.T) {
	c, l, _, fs := countyCluster(t)
	before := c.converged(l)
	frames := map[string][]byte{
		"unknown kind":         {9, 1},
		"count past body":      {kindPropose, 1, 3, 5, 'a'},
		"zero commands":        {kindPropose, 1, 0},
		"trailing on index":    {kindIndex, 1, 0},
		"checkpoint, no index": {kindCheckpoint, 1},
		"checkpoint, trailing": {kindCheckpoint, 1, 0, 0},
	}
	for name, body := range frames {
		conn, err := net.Dial("tcp", string(l.Addr))
		if err != nil {
			t.Fatal(err)
		}
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], uint32(len(body)))
		conn.Write(append(append([]byte{forwardByte, forwardVersion}, hdr[:]...), body...))
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := bufio.NewReader(conn).ReadByte(); err != io.EOF {
			t.Errorf("%s: connection not closed: %v", name, err)
		}
		conn.Close()
	}
	// A connection from a build speaking another version is closed unread.
	conn, _ := net.Dial("tcp", string(l.Addr))
	conn.Write(append([]byte{forwardByte, forwardVersion + 1}, indexRequest(1)...))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := bufio.NewReader(conn).ReadByte(); err != io.EOF {
		t.Errorf("other version: connection not closed: %v", err)
	}
	conn.Close()
	// A frame claiming more than the limit is refused before it is read.
	conn, _ = net.Dial("tcp", string(l.Addr))
	conn.Write([]byte{forwardByte, forwardVersion, 0xFF, 0xFF, 0xFF, 0xFF})
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := bufio.NewReader(conn).ReadByte(); err != io.EOF {
		t.Errorf("oversized frame: connection not closed: %v", err)
	}
	conn.Close()
	// A well-framed command that does not decode is applied as a rejection:
	// it takes a log index and changes no state.
	conn, _ = net.Dial("tcp", string(l.Addr))
	body := proposeRequest([][]byte{[]byte("not a command")})(7)
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(body)))
	conn.Write(append(append([]byte{forwardByte, forwardVersion}, hdr[:]...), body...))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := readFrame(bufio.NewReader(conn))
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	// A command that does not decode is refused before it reaches the log.
	if id, r, err := decodeResponse(resp); err != nil || id != 7 || r.status != statusRefused || !strings.Contains(r.msg, "malformed") {
		t.Fatalf("junk command: id %d %+v %v", id, r, err)
	}
	if after := c.converged(l); after != before {
		t.Fatal("malformed frames changed the state")
	}
	if _, err := fs.Events.Report(context.Background(), model.Report{Category: "dispute", Description: "still works", Grid: "511083001001001"}); err != nil {
		t.Fatalf("forwarding after garbage: %v", err)
	}
}

// A forwarded write racing the leader's death ends with a result or a typed
// error (not-leader or unknown outcome), never a hang.
func TestForwardingAcrossLeaderLoss(t *testing.T) {
	c, l, _, fs := countyCluster(t)
	errc := make(chan error, 1)
	go func() {
		for range 200 {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			_, err := fs.Events.Report(ctx, model.Report{Category: "dispute", Description: "racing", Grid: "511083001001001"})
			cancel()
			if err != nil && !errors.Is(err, errs.ErrUnavailable) && !errors.Is(err, errs.ErrOutcomeUnknown) {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	time.Sleep(100 * time.Millisecond)
	l.Close()
	delete(c.reps, l.ID)
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("untyped error across leader loss: %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("forwarded writes hung after the leader died")
	}
	// Once a new leader is up, forwarding reaches it.
	c.leader()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := fs.Events.Report(context.Background(), model.Report{Category: "dispute", Description: "after", Grid: "511083001001001"})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no forwarded write after failover: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
