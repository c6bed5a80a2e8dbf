package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/seal"
	"github.com/fengqiao/fengqiao/core/state"
	"github.com/fengqiao/fengqiao/federation/replica"
)

// member is one replica of a group with its store and plugin manager.
type member struct {
	rep    *replica.Replica
	store  *core.Store
	m      *Manager
	cancel context.CancelFunc
	done   sync.WaitGroup
}

func (mb *member) stop() {
	mb.cancel()
	mb.done.Wait()
	mb.rep.Close()
}

// A plugin that answers differently each time it is called (random
// values, the clock) on a group of three: the replicas still hold identical
// state, because a plugin runs only on the proposer's side, never in apply;
// and across a leader's death every event hears from OnTransition once.
func TestNondeterministicPluginOnThreeReplicas(t *testing.T) {
	bin := regionBin(t, "random")
	kr, err := seal.NewRandomKeyring(seal.AES256GCM)
	if err != nil {
		t.Fatal(err)
	}
	var members []*member
	var servers []raft.Server
	for i := range 3 {
		id := fmt.Sprintf("r%d", i)
		rep, err := replica.Open(replica.Config{ID: id, Dir: filepath.Join(t.TempDir(), id), Bind: "127.0.0.1:0", Timeout: 500 * time.Millisecond, NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		servers = append(servers, raft.Server{ID: raft.ServerID(id), Address: rep.Addr})
		s := core.New(rep.Engine, rep.ForwardingProposer(), core.Options{Keyring: kr})
		n := &node{store: s, dir: t.TempDir()}
		n.install(t, bin, "region")
		m := NewManager(Options{Store: s, Dir: n.dir, Node: id, CallTimeout: time.Second, Logger: slog.New(slog.DiscardHandler)})
		ctx, cancel := context.WithCancel(context.Background())
		mb := &member{rep: rep, store: s, m: m, cancel: cancel}
		mb.done.Go(func() { m.Run(ctx) })
		mb.done.Go(func() { rep.WhileLeader(ctx, m.RunLeader) })
		members = append(members, mb)
	}
	live := slices.Clone(members)
	t.Cleanup(func() {
		for _, mb := range live {
			mb.stop()
		}
	})
	if err := members[0].rep.Raft.BootstrapCluster(raft.Configuration{Servers: servers}).Error(); err != nil {
		t.Fatal(err)
	}
	leader := func() *member {
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			for _, mb := range live {
				if mb.rep.IsLeader() {
					return mb
				}
			}
		}
		t.Fatal("no leader")
		return nil
	}
	ctx := core.WithActor(context.Background(), "tester")
	if _, err := leader().store.Jurisdictions.LoadCounty(ctx, "511083", 2); err != nil {
		t.Fatal(err)
	}
	sum, _ := FileSHA256(bin)
	v, err := leader().m.Register(ctx, Registration{File: "region", SHA256: sum, Jurisdictions: []string{"511083"}})
	if err != nil {
		t.Fatal(err)
	}
	// Every voter reports its binary on its own; then one command enables it.
	voters := []string{"r0", "r1", "r2"}
	ectx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := leader().m.EnableWhenReported(ectx, v.Name, v.Version, voters); err != nil {
		t.Fatalf("enable: %v", err)
	}
	for _, mb := range members {
		for deadline := time.Now().Add(15 * time.Second); mb.m.Statuses()["region"].State != StateRunning; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the plugin does not run: %+v", mb.rep.ID, mb.m.Statuses())
			}
		}
	}
	grids, _, _ := leader().store.Grids.List("511083", "", 4)
	var ids []string
	report := func(via *member, i int) {
		kctx, _ := core.WithIdempotencyKey(ctx, fmt.Sprint("report-", i))
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			ev, err := via.store.Events.Report(kctx, model.Report{Category: "dispute", Description: fmt.Sprint("邻里纠纷 ", i), Grid: grids[i%len(grids)].Code})
			var dup *state.DuplicateError
			switch {
			case err == nil:
				ids = append(ids, ev.ID)
				return
			case errors.As(err, &dup):
				ids = append(ids, dup.Ref)
				return
			case time.Now().After(deadline):
				t.Fatalf("report %d via %s: %v", i, via.rep.ID, err)
			}
		}
	}
	for i := range 15 {
		report(live[i%len(live)], i) // followers propose too, running the hooks themselves
	}
	// The leader dies; its successor resumes delivery from the cursor.
	old := leader()
	live = slices.DeleteFunc(live, func(mb *member) bool { return mb == old })
	old.stop()
	for i := 15; i < 30; i++ {
		report(live[i%len(live)], i)
	}
	waitComments(t, leader().store, ids, "region")
	// The survivors hold the same state, byte for byte.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		a, _ := live[0].rep.Engine.AppliedIndex()
		b, _ := live[1].rep.Engine.AppliedIndex()
		if a == b {
			da, _ := live[0].rep.Engine.Digest()
			db, _ := live[1].rep.Engine.Digest()
			if da == db {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replicas differ: applied %d and %d", a, b)
		}
	}
	// What the plugin added differs from event to event (it is random), yet
	// each replica holds the proposer's answer.
	for _, id := range ids[:3] {
		a, _ := live[0].store.Events.Get(id)
		b, _ := live[1].store.Events.Get(id)
		if string(a.Ext["region:version"]) != string(b.Ext["region:version"]) || len(a.Ext["region:version"]) == 0 {
			t.Fatalf("event %s: %s and %s", id, a.Ext["region:version"], b.Ext["region:version"])
		}
	}
}
