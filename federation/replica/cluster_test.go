package replica

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/seal"
	"github.com/fengqiao/fengqiao/core/state"
)

type cluster struct {
	t    testing.TB
	dirs map[string]string
	reps map[string]*Replica
	keys *seal.Keyring
	boot []raft.Server
}

func keyring(t testing.TB) *seal.Keyring {
	kr, err := seal.NewRandomKeyring(seal.AES256GCM)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func (c *cluster) start(id, bind string, cfg Config) *Replica {
	c.t.Helper()
	if c.dirs[id] == "" {
		c.dirs[id] = filepath.Join(c.t.TempDir(), id)
	}
	cfg.ID, cfg.Dir, cfg.Bind = id, c.dirs[id], bind
	if cfg.Timeout == 0 {
		cfg.Timeout = 500 * time.Millisecond
	}
	r, err := Open(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.reps[id] = r
	return r
}

// newCluster starts n voters on loopback ports picked by the OS.
func newCluster(t testing.TB, n int, cfg Config) *cluster {
	c := &cluster{t: t, dirs: map[string]string{}, reps: map[string]*Replica{}, keys: keyring(t)}
	// Start each with a fixed free port so the bootstrap configuration can name them.
	var servers []raft.Server
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("r%d", i)
		r := c.start(id, "127.0.0.1:0", cfg)
		servers = append(servers, raft.Server{ID: raft.ServerID(id), Address: r.Addr})
	}
	c.boot = servers
	if err := c.reps["r0"].Raft.BootstrapCluster(raft.Configuration{Servers: servers}).Error(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, r := range c.reps {
			r.Close()
		}
	})
	return c
}

func (c *cluster) leader() *Replica {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range c.reps {
			if r.IsLeader() {
				return r
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatal("no leader elected")
	return nil
}

func (c *cluster) store(r *Replica) *core.Store {
	return core.New(r.Engine, r.Proposer(), core.Options{Keyring: c.keys})
}

// converged waits until every replica has applied the leader's last index
// and returns the common digest.
func (c *cluster) converged(leader *Replica) string {
	c.t.Helper()
	c.caughtUp(leader)
	var first string
	for id, r := range c.reps {
		d, err := r.Engine.Digest()
		if err != nil {
			c.t.Fatal(err)
		}
		if first == "" {
			first = d
		} else if d != first {
			c.t.Fatalf("replica %s digest %s differs from %s", id, d[:12], first[:12])
		}
	}
	return first
}

// caughtUp waits until every replica has applied what leader has.
func (c *cluster) caughtUp(leader *Replica) {
	c.t.Helper()
	// Raft's own applied index moves when entries are handed to the FSM, not
	// when the FSM is done; the engine's is written with the data.
	want, err := leader.Engine.AppliedIndex()
	if err != nil {
		c.t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok := true
		for _, r := range c.reps {
			if got, _ := r.Engine.AppliedIndex(); got < want {
				ok = false
			}
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			c.t.Fatal("replicas did not catch up")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func report(t *testing.T, s *core.Store, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		if _, err := s.Events.Report(ctx, model.Report{Category: "dispute", Description: fmt.Sprint("replicated ", i), Grid: "511083001001001"}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestThreeReplicasAgreeThroughFailoverAndRestart(t *testing.T) {
	c := newCluster(t, 3, Config{})
	l := c.leader()
	s := c.store(l)
	if _, err := s.Jurisdictions.LoadCounty(context.Background(), "511083", 1); err != nil {
		t.Fatal(err)
	}
	report(t, s, 50)
	c.converged(l)

	// A follower refuses writes and names the leader.
	for _, r := range c.reps {
		if r != l {
			_, err := c.store(r).Events.Report(context.Background(), model.Report{Category: "dispute", Description: "x", Grid: "511083001001001"})
			var nl *ErrNotLeader
			if err == nil || !errorsAs(err, &nl) || nl.Leader != l.Addr {
				t.Fatalf("follower write: %v", err)
			}
			break
		}
	}

	// Stop the leader; the others elect a new one and keep taking writes.
	oldID, oldAddr := l.ID, l.Addr
	l.Close()
	delete(c.reps, oldID)
	l2 := c.leader()
	s2 := c.store(l2)
	report(t, s2, 30)
	f, err := s2.Events.Figures("511083", "", "")
	if err != nil || f.Reported != 80 {
		t.Fatalf("after failover: %+v %v", f, err)
	}

	// Restart the old leader from its files: it skips what it had applied
	// and catches up with the rest.
	r := c.start(oldID, string(oldAddr), Config{})
	if r.Addr != oldAddr {
		t.Fatalf("restarted on %s, want %s", r.Addr, oldAddr)
	}
	c.converged(l2)
}

func TestNewReplicaCatchesUpBySnapshot(t *testing.T) {
	c := newCluster(t, 3, Config{SnapshotThreshold: 64, TrailingLogs: 16})
	l := c.leader()
	s := c.store(l)
	if _, err := s.Jurisdictions.LoadCounty(context.Background(), "511083", 1); err != nil {
		t.Fatal(err)
	}
	report(t, s, 200)
	if err := l.Raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	// The log before the snapshot is gone, so the newcomer needs the snapshot.
	first, _ := l.logs.FirstIndex()
	if first <= 1 {
		t.Fatalf("log was not compacted (first index %d)", first)
	}
	n := c.start("r3", "127.0.0.1:0", Config{SnapshotThreshold: 64, TrailingLogs: 16})
	if err := l.Raft.AddNonvoter("r3", n.Addr, 0, 5*time.Second).Error(); err != nil {
		t.Fatal(err)
	}
	report(t, s, 10)
	d := c.converged(l)
	if got, _ := n.Engine.Digest(); got != d {
		t.Fatal("newcomer differs")
	}
	if st := n.Raft.Stats(); st["last_snapshot_index"] == "0" {
		t.Fatalf("the newcomer caught up without installing a snapshot: %v", st)
	}
	// The newcomer serves reads from its restored state, including the grid index.
	ns := c.store(n)
	if g, err := ns.Grids.Get("511083001001001"); err != nil || g.Status != model.GridActive {
		t.Fatalf("read on newcomer: %v", err)
	}
	if f, _ := ns.Events.Figures("511083", "", ""); f.Reported != 210 {
		t.Fatalf("newcomer figures: %+v", f)
	}
}

// TestReplicaDownFor10000EntriesCatchesUpBySnapshot stops a follower, writes
// 10,000 entries while it is down (the leader compacts its log past them),
// and restarts it: it must catch up by installing a snapshot.
func TestReplicaDownFor10000EntriesCatchesUpBySnapshot(t *testing.T) {
	// Slow heartbeats: under -race, applying 10,000 entries on every replica
	// in one process can starve 300 ms timeouts and cost the leader its term.
	cfg := Config{SnapshotThreshold: 2048, TrailingLogs: 512, Timeout: 2 * time.Second}
	c := newCluster(t, 3, cfg)
	l := c.leader()
	s := c.store(l)
	if _, err := s.Jurisdictions.LoadCounty(context.Background(), "511083", 1); err != nil {
		t.Fatal(err)
	}
	var down *Replica
	for _, r := range c.reps {
		if r != l {
			down = r
			break
		}
	}
	id, addr := down.ID, string(down.Addr)
	before, _ := down.Engine.AppliedIndex()
	down.Close()
	delete(c.reps, id)
	// One Raft entry per report: through the proposer, concurrent writes
	// would be packed into far fewer entries.
	var last raft.ApplyFuture
	for i := 0; i < 10000; i++ {
		cmd, err := s.Events.ReportCommand(context.Background(), model.Report{Category: "dispute", Description: "while down", Jurisdiction: "511083001"})
		if err != nil {
			t.Fatal(err)
		}
		data, _ := cmd.Encode()
		last = l.Raft.Apply(data, 10*time.Second)
	}
	if err := last.Error(); err != nil {
		t.Fatal(err)
	}
	if res := last.Response().(state.Result); res.Err != nil {
		t.Fatal(res.Err)
	}
	if err := l.Raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	if first, _ := l.logs.FirstIndex(); first <= before+1 {
		t.Fatalf("the leader still has the log the replica missed (first %d, replica at %d)", first, before)
	}
	r := c.start(id, addr, cfg)
	c.converged(l)
	if st := r.Raft.Stats(); st["last_snapshot_index"] == "0" {
		t.Fatalf("caught up without a snapshot: %v", st)
	}
	if f, _ := c.store(r).Events.Figures("511083", "", ""); f.Reported != 10000 {
		t.Fatalf("restarted replica has %d events", f.Reported)
	}
}

// The transport Raft gets never pipelines (see noPipeline): a pipeline
// wedged by a follower's Success=false once hung TestMutualTLSBetweenReplicas
// in Shutdown.
func TestReplicationIsNotPipelined(t *testing.T) {
	var tr raft.Transport = noPipeline{}
	if _, err := tr.AppendEntriesPipeline("r1", "127.0.0.1:1"); !errors.Is(err, raft.ErrPipelineReplicationNotSupported) {
		t.Fatalf("AppendEntriesPipeline: %v", err)
	}
}
