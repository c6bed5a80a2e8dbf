package exchange

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"go.etcd.io/bbolt"
	"go.uber.org/goleak"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/divisions"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/seal"
	"github.com/fengqiao/fengqiao/core/state"
	"github.com/fengqiao/fengqiao/federation/replica"
)

var long = flag.Bool("long", false, "run the long chaos test (a 60 s partition, more traffic)")

// Raft's TCP transport does not wait for its connection handlers on Close;
// they exit when the peer's side closes.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/hashicorp/raft.(*NetworkTransport).handleConn"))
}

// group is one jurisdiction: a Raft group with a store, receiver and
// shipper on every replica.
type group struct {
	code  string
	keys  *seal.Keyring
	mu    sync.Mutex
	reps  map[string]*member
	tr    Transport
	links []model.Link
	hold  chan struct{} // closed when shippers may start (benchmarks)
}

type member struct {
	rep    *replica.Replica
	store  *core.Store
	rcv    *Receiver
	cancel context.CancelFunc
	done   chan struct{}
}

type federation struct {
	t       testing.TB
	durable bool // fsync (benchmarks); tests skip it
	direct  *Direct
	faulty  *Faulty
	groups  map[string]*group
}

func newFederation(t testing.TB) *federation {
	d := NewDirect()
	return &federation{t: t, direct: d, faulty: NewFaulty(d, Faults{}, 42), groups: map[string]*group{}}
}

// startPaused starts a one-replica group whose shippers wait for resume.
func (f *federation) startPaused(code string, links ...model.Link) *group {
	return f.startGroup(code, 1, make(chan struct{}), links)
}

func (g *group) resume(*federation) { close(g.hold) }

func (f *federation) start(code string, n int, links ...model.Link) *group {
	return f.startGroup(code, n, nil, links)
}

func (f *federation) startGroup(code string, n int, hold chan struct{}, links []model.Link) *group {
	t := f.t
	kr, err := seal.NewRandomKeyring(seal.AES256GCM)
	if err != nil {
		t.Fatal(err)
	}
	g := &group{code: code, keys: kr, reps: map[string]*member{}, tr: f.faulty, links: links, hold: hold}
	var servers []raft.Server
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%s-r%d", code, i)
		rep, err := replica.Open(replica.Config{ID: id, Dir: filepath.Join(t.TempDir(), id), Bind: "127.0.0.1:0", Timeout: 500 * time.Millisecond, NoSync: !f.durable})
		if err != nil {
			t.Fatal(err)
		}
		servers = append(servers, raft.Server{ID: raft.ServerID(id), Address: rep.Addr})
		g.add(f, id, rep)
	}
	if err := g.reps[code+"-r0"].rep.Raft.BootstrapCluster(raft.Configuration{Servers: servers}).Error(); err != nil {
		t.Fatal(err)
	}
	f.groups[code] = g
	t.Cleanup(func() {
		for id := range g.reps {
			g.kill(f, id)
		}
	})
	s := g.leader(t)
	ctx := context.Background()
	if err := s.Federation.Configure(ctx, model.FederationConfig{Self: code, Links: links}); err != nil {
		t.Fatal(err)
	}
	if len(code) == 6 && code[4:] != "00" {
		_, err = s.Jurisdictions.LoadCounty(ctx, code, 1)
	} else {
		var sub []divisions.Division
		if sub, err = divisions.Subtree(code); err == nil {
			err = s.Jurisdictions.Load(ctx, sub, nil)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func (g *group) add(f *federation, id string, rep *replica.Replica) {
	s := core.New(rep.Engine, rep.Proposer(), core.Options{Keyring: g.keys})
	m := &member{rep: rep, store: s, rcv: &Receiver{Store: s}, done: make(chan struct{})}
	var ctx context.Context
	ctx, m.cancel = context.WithCancel(context.Background())
	sh := NewShipper(s, g.tr, ShipperOptions{Idle: 5 * time.Millisecond, MaxBackoff: 300 * time.Millisecond})
	go func() {
		defer close(m.done)
		if g.hold != nil {
			select {
			case <-g.hold:
			case <-ctx.Done():
				return
			}
		}
		rep.WhileLeader(ctx, sh.Run)
	}()
	g.mu.Lock()
	g.reps[id] = m
	g.mu.Unlock()
	f.direct.Register(g.code, m.rcv)
}

// kill stops a replica abruptly (Raft and files closed, shipper stopped).
func (g *group) kill(f *federation, id string) {
	g.mu.Lock()
	m := g.reps[id]
	delete(g.reps, id)
	g.mu.Unlock()
	if m == nil {
		return
	}
	f.direct.Unregister(g.code, m.rcv)
	m.cancel()
	<-m.done
	m.rep.Close()
}

func (g *group) leaderMember(t testing.TB) (string, *member) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		g.mu.Lock()
		for id, m := range g.reps {
			if m.rep.IsLeader() {
				g.mu.Unlock()
				return id, m
			}
		}
		g.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: no leader", g.code)
	return "", nil
}

func (g *group) leader(t testing.TB) *core.Store { _, m := g.leaderMember(t); return m.store }

// retry runs a write until it succeeds: a failover may refuse it meanwhile.
// Writes here are not keyed, so only writes that are refused before the log
// (not leader) are retried; an unknown outcome fails the test.
func (g *group) retry(t testing.TB, fn func(s *core.Store) error) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := fn(g.leader(t))
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", g.code, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// drained waits until every link of every group has nothing in flight.
func (f *federation) drained(timeout time.Duration) time.Duration {
	start := time.Now()
	for {
		busy := ""
		for code, g := range f.groups {
			ls, err := g.leader(f.t).Federation.Links()
			if err != nil {
				f.t.Fatal(err)
			}
			for _, l := range ls {
				if l.Depth > 0 {
					busy = fmt.Sprintf("%s→%s depth %d", code, l.Peer, l.Depth)
				}
			}
		}
		if busy == "" {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			f.t.Fatalf("not drained after %v: %s", timeout, busy)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestFederationExactlyOnceUnderFaults(t *testing.T) {
	f := newFederation(t)
	peer := func(c string) model.Link { return model.Link{Peer: c, Relation: model.RelPeer} }
	parent := func(c string) model.Link { return model.Link{Peer: c, Relation: model.RelParent} }
	child := func(c string) model.Link { return model.Link{Peer: c, Relation: model.RelChild} }
	cq := f.start("500000", 1, child("500110"), child("500153"))
	qj := f.start("500110", 3, parent("500000"), peer("510107"))
	rc := f.start("500153", 3, parent("500000"), peer("511083"))
	f.start("511000", 1, child("511083"))
	lc := f.start("511083", 1, parent("511000"), peer("500153"))
	cd := f.start("510100", 1, child("510107"))
	wh := f.start("510107", 1, parent("510100"), peer("500110"))

	f.faulty.SetFaults(Faults{DropRequest: 0.15, DropResponse: 0.15, Duplicate: 0.3, Reorder: 0.1, MaxDelay: 10 * time.Millisecond})
	rounds, partition := 20, 2*time.Second
	if *long {
		rounds, partition = 200, 60*time.Second
	}
	ctx := context.Background()
	cs, err := rc.leader(t).Cases.Open(ctx, "荣昌—隆昌交界山林纠纷", "两地村民因山林界线发生争执", []string{"511083"})
	if err != nil {
		t.Fatal(err)
	}
	var escalated, dispatched []string
	entries := 0
	traffic := func(n int) {
		for i := 0; i < n; i++ {
			var id string
			rc.retry(t, func(s *core.Store) error {
				ev, err := s.Events.Report(ctx, model.Report{Category: "dispute", Description: fmt.Sprintf("纠纷 %d", i), Jurisdiction: "500153001"})
				if err == nil {
					id = ev.ID
				}
				return err
			})
			rc.retry(t, func(s *core.Store) error {
				_, err := s.Events.Act(ctx, id, model.Action{Action: "escalate"})
				return err
			})
			escalated = append(escalated, id)
			var task string
			cq.retry(t, func(s *core.Store) error {
				ev, err := s.Events.Report(ctx, model.Report{Category: "sanitation", Description: fmt.Sprintf("交办 %d", i), Jurisdiction: "500110001"})
				if err == nil {
					task = ev.ID
				}
				return err
			})
			cq.retry(t, func(s *core.Store) error {
				_, err := s.Events.Act(ctx, task, model.Action{Action: "accept"})
				return err
			})
			cq.retry(t, func(s *core.Store) error {
				_, err := s.Events.Act(ctx, task, model.Action{Action: "dispatch", Handler: "500110"})
				return err
			})
			dispatched = append(dispatched, task)
			rc.retry(t, func(s *core.Store) error {
				_, err := s.Cases.AddEntry(ctx, cs.ID, fmt.Sprintf("荣昌记录 %d", i))
				return err
			})
			// Until the case reaches 隆昌 its entries are refused: retry.
			lc.retry(t, func(s *core.Store) error {
				_, err := s.Cases.AddEntry(ctx, cs.ID, fmt.Sprintf("隆昌记录 %d", i))
				return err
			})
			entries += 2
		}
	}
	traffic(rounds / 2)
	wh.retry(t, func(s *core.Store) error { return s.Federation.SendRollup(ctx) })

	// Partition 荣昌 from everyone while both sides keep writing, and kill
	// the sender's leader (荣昌) and a receiver's leader (綦江).
	f.faulty.Partition("500153", true)
	rcLeader, _ := rc.leaderMember(t)
	rc.kill(f, rcLeader)
	qjLeader, _ := qj.leaderMember(t)
	qj.kill(f, qjLeader)
	traffic(rounds / 2)
	time.Sleep(partition)
	f.faulty.Partition("500153", false)
	f.faulty.SetFaults(Faults{})
	healed := f.drained(60 * time.Second)
	f.faulty.Wait()
	t.Logf("converged %v after the partition healed; delivered %d, dropped %d, duplicated %d, reordered %d",
		healed, f.faulty.Delivered.Load(), f.faulty.Dropped.Load(), f.faulty.Duplicated.Load(), f.faulty.Reordered.Load())

	// Zero lost, zero doubled: every escalation and dispatch arrived once,
	// nothing was refused, and the counts match.
	top := cq.leader(t)
	for _, id := range escalated {
		ev, err := top.Events.Get(id)
		if err != nil || ev.Origin != "500153" {
			t.Fatalf("escalation %s lost at 重庆市: %v", id, err)
		}
	}
	fig, _ := top.Events.Figures("500153", "", "")
	if fig.Reported != int64(len(escalated)) {
		t.Fatalf("重庆市 counts %d escalated events from 荣昌区, sent %d", fig.Reported, len(escalated))
	}
	down := qj.leader(t)
	for _, id := range dispatched {
		if ev, err := down.Events.Get(id); err != nil || ev.Origin != "500000" {
			t.Fatalf("dispatch %s lost at 綦江区: %v", id, err)
		}
	}
	if fig, _ := down.Events.Figures("500110", "", ""); fig.Reported != int64(len(dispatched)) {
		t.Fatalf("綦江区 counts %d, dispatched %d", fig.Reported, len(dispatched))
	}
	for code, g := range f.groups {
		if r, _ := g.leader(t).Federation.Refusals(""); len(r) != 0 {
			t.Fatalf("%s refused %+v", code, r)
		}
	}
	// The case converged: same entries in the same order on both sides.
	a, _ := rc.leader(t).Cases.Get(cs.ID)
	b, _ := lc.leader(t).Cases.Get(cs.ID)
	ids := func(c *model.Case) (out []string) {
		for _, e := range c.Entries {
			out = append(out, e.ID)
		}
		return
	}
	if len(a.Entries) != entries || !slices.Equal(ids(a), ids(b)) {
		t.Fatalf("case entries: 荣昌 %d, 隆昌 %d, written %d", len(a.Entries), len(b.Entries), entries)
	}
	if r, ok, _ := cd.leader(t).Federation.Rollup("510107"); !ok || r.Code != "510107" {
		t.Fatal("成都市 never heard 武侯区's figures")
	}
	// Every surviving replica of every group holds the same state.
	for code, g := range f.groups {
		waitSame(t, code, g)
	}
}

// bucketCounts names each bucket with its key count, to tell where two
// diverged replicas differ.
func bucketCounts(e *state.Engine) string {
	var out string
	e.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			out += fmt.Sprintf("%s=%d ", name, b.Stats().KeyN)
			return nil
		})
	})
	return out
}

func waitSame(t *testing.T, code string, g *group) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		var digests []string
		var applied []uint64
		g.mu.Lock()
		for _, m := range g.reps {
			d, _ := m.rep.Engine.Digest()
			a, _ := m.rep.Engine.AppliedIndex()
			digests, applied = append(digests, d), append(applied, a)
		}
		g.mu.Unlock()
		if slices.Min(applied) == slices.Max(applied) && slices.Min(digests) == slices.Max(digests) {
			return
		}
		if time.Now().After(deadline) {
			g.mu.Lock()
			var diff []string
			var engines []*state.Engine
			for _, m := range g.reps {
				diff = append(diff, m.rep.ID+": "+bucketCounts(m.rep.Engine))
				engines = append(engines, m.rep.Engine)
			}
			first := ""
			if len(engines) > 1 {
				first = firstDiff(engines[0], engines[1])
			}
			g.mu.Unlock()
			t.Fatalf("%s replicas differ: applied %v; keys per bucket %v; first difference: %s", code, applied, diff, first)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// firstDiff names the first bucket and key where two engines disagree.
func firstDiff(a, b *state.Engine) string {
	type kv struct{ b, k, v string }
	dump := func(e *state.Engine) (out []kv) {
		e.View(func(tx *bbolt.Tx) error {
			return tx.ForEach(func(name []byte, bk *bbolt.Bucket) error {
				return bk.ForEach(func(k, v []byte) error {
					out = append(out, kv{string(name), string(k), string(v)})
					return nil
				})
			})
		})
		return out
	}
	x, y := dump(a), dump(b)
	for i := 0; i < len(x) || i < len(y); i++ {
		switch {
		case i >= len(x):
			return fmt.Sprintf("only second has %s/%q=%q", y[i].b, y[i].k, y[i].v)
		case i >= len(y):
			return fmt.Sprintf("only first has %s/%q=%q", x[i].b, x[i].k, x[i].v)
		case x[i] != y[i]:
			return fmt.Sprintf("first %s/%q=%q, second %s/%q=%q", x[i].b, x[i].k, x[i].v, y[i].b, y[i].k, y[i].v)
		}
	}
	return "none"
}
