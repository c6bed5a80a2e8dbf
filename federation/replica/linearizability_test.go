package replica

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/model"

	"github.com/anishathalye/porcupine"
)

var long = flag.Bool("long", false, "run the long linearizability check (60 s of traffic)")

type counterIn struct{ add bool }
type counterOut struct {
	count   int64
	unknown bool // an add whose outcome was never learnt
}

// counterModel: reports add one event to a village; a consistent read of the
// village's figures returns how many there are.
var counterModel = porcupine.Model{
	Init: func() interface{} { return int64(0) },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		s, in, out := state.(int64), input.(counterIn), output.(counterOut)
		if in.add {
			return true, s + 1
		}
		return out.count == s, s
	},
	DescribeOperation: func(input, output interface{}) string {
		if input.(counterIn).add {
			return "add"
		}
		return fmt.Sprintf("read → %d", output.(counterOut).count)
	},
}

// TestLinearizableThroughLeaderRestart records reports and consistent reads
// from several clients while the leader is stopped and later restarted, and
// checks the history with Porcupine.
func TestLinearizableThroughLeaderRestart(t *testing.T) {
	run := 6 * time.Second
	if *long {
		run = 60 * time.Second
	}
	c := newCluster(t, 3, Config{})
	l := c.leader()
	s := c.store(l)
	if _, err := s.Jurisdictions.LoadCounty(context.Background(), "511083", 1); err != nil {
		t.Fatal(err)
	}
	const village = "511083001001"

	var mu sync.Mutex // guards c.reps against the restarts
	current := func() *Replica {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range c.reps {
			if r.IsLeader() {
				return r
			}
		}
		return nil
	}
	var (
		opsMu sync.Mutex
		ops   []porcupine.Operation
		start = time.Now()
		adds  [3]int // before, during and after the outage
		reads [3]int
	)
	phase := func() int { return min(2, int(3*time.Since(start)/run)) }
	record := func(op porcupine.Operation, add bool) {
		opsMu.Lock()
		ops = append(ops, op)
		if add {
			adds[phase()]++
		} else {
			reads[phase()]++
		}
		opsMu.Unlock()
	}
	var wg sync.WaitGroup
	for client := 0; client < 4; client++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(client)))
			for time.Since(start) < run {
				r := current()
				if r == nil {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				st := c.store(r)
				call := time.Now().UnixNano()
				if rng.Intn(2) == 0 {
					_, err := st.Events.Report(context.Background(), model.Report{Category: "dispute", Description: "lin", Jurisdiction: village})
					switch {
					case err == nil:
						record(porcupine.Operation{ClientId: client, Input: counterIn{add: true}, Call: call, Output: counterOut{}, Return: time.Now().UnixNano()}, true)
					case errors.Is(err, ErrUnknownOutcome):
						// It may take effect at any time from now on.
						record(porcupine.Operation{ClientId: client, Input: counterIn{add: true}, Call: call, Output: counterOut{unknown: true}, Return: math.MaxInt64}, true)
					}
					continue
				}
				if r.ReadBarrier() != nil {
					continue
				}
				f, err := st.Events.Figures(village, "", "")
				if err == nil {
					record(porcupine.Operation{ClientId: client, Input: counterIn{}, Call: call, Output: counterOut{count: f.Reported}, Return: time.Now().UnixNano()}, false)
				}
			}
		}()
	}
	// Stop the leader a third of the way in; bring it back at two thirds.
	time.Sleep(run / 3)
	mu.Lock()
	victim := ""
	var addr string
	var stopped *Replica
	for id, r := range c.reps {
		if r.IsLeader() {
			victim, addr, stopped = id, string(r.Addr), r
			delete(c.reps, id)
		}
	}
	mu.Unlock()
	if victim == "" {
		t.Fatal("no leader to stop")
	}
	// Closed outside mu: clients find the survivors while it shuts down.
	t0 := time.Now()
	stopped.Close()
	t.Logf("stopping the leader took %v", time.Since(t0).Round(time.Millisecond))
	time.Sleep(run / 3)
	mu.Lock()
	c.start(victim, addr, Config{})
	mu.Unlock()
	wg.Wait()

	t.Logf("%d operations; adds %v and reads %v before/during/after the outage", len(ops), adds, reads)
	for p := 0; p < 3; p++ {
		if adds[p] == 0 || reads[p] == 0 {
			t.Fatalf("phase %d saw no traffic: adds %v reads %v", p, adds, reads)
		}
	}
	res := porcupine.CheckOperationsTimeout(counterModel, ops, 60*time.Second)
	if res != porcupine.Ok {
		t.Fatalf("history is not linearizable (%v)", res)
	}
}

// TestCheckerCatchesAStaleRead makes sure the model can fail: a read that
// misses an add which finished before the read began is rejected.
func TestCheckerCatchesAStaleRead(t *testing.T) {
	ops := []porcupine.Operation{
		{ClientId: 0, Input: counterIn{add: true}, Call: 0, Output: counterOut{}, Return: 10},
		{ClientId: 1, Input: counterIn{}, Call: 20, Output: counterOut{count: 0}, Return: 30},
	}
	if porcupine.CheckOperations(counterModel, ops) {
		t.Fatal("a stale read passed the check")
	}
	ops[1].Output = counterOut{count: 1}
	if !porcupine.CheckOperations(counterModel, ops) {
		t.Fatal("a correct history failed the check")
	}
}
