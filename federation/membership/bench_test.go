package membership

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/federation/replica"
)

// BenchmarkLeaderChangeView kills the leader of a 3-replica group (Raft and
// gossip both stop, as in kill -9) in a pool of 15 members on the default
// "lan" profile, and times until every surviving member's view names the
// new leader. view_ms runs from the kill and so includes Raft's election,
// which elect_ms reports alone; reflect_ms is the difference, the time from
// the new leader's election to every view showing it (its post-election
// barrier, then gossip). One iteration is one trial; run with -benchtime 20x.
func BenchmarkLeaderChangeView(b *testing.B) {
	key := GenerateKey()
	dir := b.TempDir()
	type seat struct {
		rep  *replica.Replica
		pool *Pool
		stop func() // ends Follow and waits for it
		bind string
	}
	seats := make([]*seat, 3)
	var boot []raft.Server
	var seeds []string
	open := func(i, gen int) {
		s := seats[i]
		r, err := replica.Open(replica.Config{ID: fmt.Sprintf("r%d", i), Dir: filepath.Join(dir, fmt.Sprint(i)), Bind: s.bind, Bootstrap: boot})
		if err != nil {
			b.Fatal(err)
		}
		p, err := Start(Config{Name: fmt.Sprintf("500110/r%d.%d", i, gen), Bind: "127.0.0.1:0", Meta: meta("500110", i), Keys: []string{key}})
		if err != nil {
			b.Fatal(err)
		}
		if len(seeds) > 0 {
			if err := p.Join(seeds); err != nil {
				b.Fatal(err)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); p.Follow(ctx, r) }()
		s.rep, s.pool, s.stop = r, p, func() { cancel(); <-done }
	}
	for i := range seats {
		// Fixed Raft ports, so a restarted replica keeps its address.
		r, err := replica.Open(replica.Config{ID: "probe", Dir: filepath.Join(dir, "probe", fmt.Sprint(i)), Bind: "127.0.0.1:0"})
		if err != nil {
			b.Fatal(err)
		}
		seats[i] = &seat{bind: string(r.Addr)}
		r.Close()
		boot = append(boot, raft.Server{ID: raft.ServerID(fmt.Sprintf("r%d", i)), Address: raft.ServerAddress(seats[i].bind)})
	}
	for i := range seats {
		open(i, 0)
		seeds = []string{seats[0].pool.Addr()}
	}
	observers := []*Pool{}
	for i := range 12 {
		code := fmt.Sprintf("500%03d", 111+i)
		p, err := Start(Config{Name: code + "/r0", Bind: "127.0.0.1:0", Meta: meta(code, 10+i), Keys: []string{key}})
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Join(seeds); err != nil {
			b.Fatal(err)
		}
		observers = append(observers, p)
	}
	seeds = []string{observers[0].Addr(), observers[1].Addr()} // they never die
	defer func() {
		for _, s := range seats {
			s.stop()
			s.pool.Kill()
			s.rep.Close()
		}
		for _, p := range observers {
			p.Kill()
		}
	}()
	alive := func(skip int) []*Pool {
		out := slices.Clone(observers)
		for i, s := range seats {
			if i != skip {
				out = append(out, s.pool)
			}
		}
		return out
	}
	// settled waits until every member in pools names one leader for 500110
	// that is not excluded, and returns its name.
	settled := func(pools []*Pool, excluded string, minTerm uint64) string {
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			var name string
			ok := true
			for _, p := range pools {
				l, found := p.Leaders()["500110"]
				if !found || l.Name == excluded || l.Term < minTerm || (name != "" && l.Name != name) {
					ok = false
					break
				}
				name = l.Name
			}
			if ok {
				return name
			}
		}
		b.Fatal("views never settled")
		return ""
	}

	var views, elects, reflects []time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		name := settled(alive(-1), "", 0)
		victim := -1
		for i, s := range seats {
			if s.pool.ml.LocalNode().Name == name {
				victim = i
			}
		}
		oldTerm := seats[victim].rep.Term()
		b.StartTimer()

		start := time.Now()
		v := seats[victim]
		v.stop()
		v.pool.Kill()
		v.rep.Close()
		var elected time.Duration
		for {
			found := false
			for i, s := range seats {
				if i != victim && s.rep.IsLeader() {
					found = true
				}
			}
			if found {
				elected = time.Since(start)
				break
			}
			time.Sleep(time.Millisecond)
		}
		settled(alive(victim), name, oldTerm+1)
		views = append(views, time.Since(start))
		elects = append(elects, elected)
		reflects = append(reflects, views[n]-elected)
		b.Logf("trial %d: elected %v, all views %v", n, elected, views[n])

		b.StopTimer()
		open(victim, n+1)
		b.StartTimer()
	}
	b.StopTimer()
	report(b, views, "view")
	report(b, elects, "elect")
	report(b, reflects, "reflect")
}

func report(b *testing.B, d []time.Duration, what string) {
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, what+"_p50_ms")
	b.ReportMetric(float64(d[(len(d)*99)/100].Microseconds())/1000, what+"_p99_ms")
}

// BenchmarkLeaderClaimSpread times gossip alone: a leader claim made by one
// of 45 members until all 45 views show it.
func BenchmarkLeaderClaimSpread(b *testing.B) {
	key := GenerateKey()
	var pools []*Pool
	for i := range 45 {
		code := fmt.Sprintf("500%03d", 110+i/3)
		p, err := Start(Config{Name: fmt.Sprintf("%s/r%d", code, i%3), Bind: "127.0.0.1:0", Meta: meta(code, i), Keys: []string{key}})
		if err != nil {
			b.Fatal(err)
		}
		defer p.Kill()
		if i > 0 {
			if err := p.Join([]string{pools[0].Addr()}); err != nil {
				b.Fatal(err)
			}
		}
		pools = append(pools, p)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		all := true
		for _, p := range pools {
			all = all && len(p.Members()) == len(pools)
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("pool never formed")
		}
	}
	var spread []time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		claimant := pools[(n*7)%len(pools)]
		term := uint64(n + 1)
		start := time.Now()
		if err := claimant.SetLeader(true, term); err != nil {
			b.Fatal(err)
		}
		for {
			all := true
			for _, p := range pools {
				l, ok := p.Leaders()[claimant.meta.Jurisdiction]
				all = all && ok && l.Term == term
			}
			if all {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		spread = append(spread, time.Since(start))
	}
	b.StopTimer()
	report(b, spread, "spread")
}
