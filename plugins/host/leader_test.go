package host

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core"
)

// comments counts the plugin's comments on an event's timeline.
func comments(t *testing.T, s *core.Store, id, plugin string) int {
	t.Helper()
	tl, err := s.Events.Timeline(id)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range tl {
		if e.Action == "comment" && e.Actor == "plugin:"+plugin {
			if !strings.Contains(e.Note, "dispute") { // read back through the host service
				t.Fatalf("event %s: the plugin's note %q lacks the category it read", id, e.Note)
			}
			n++
		}
	}
	return n
}

// waitComments waits until every event has exactly one comment of the plugin.
func waitComments(t *testing.T, s *core.Store, ids []string, plugin string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, id := range ids {
		for comments(t, s, id, plugin) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("event %s never heard from plugin %s", id, plugin)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, id := range ids {
		if n := comments(t, s, id, plugin); n != 1 {
			t.Fatalf("event %s has %d comments of plugin %s, want 1", id, n, plugin)
		}
	}
}

// OnTransition hears every change in the plugin's jurisdictions from its
// replicated cursor, and what it answers is applied once even when the
// same changes are handed over again.
func TestOnTransitionDeliversOnce(t *testing.T) {
	n := newNode(t)
	n.enable(t, "region", n.install(t, regionBin(t, ""), "region"), nil)
	n.waitState(t, "region", false, StateRunning)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { n.m.RunLeader(ctx) })
	var ids []string
	for i := range 20 {
		ev, err := n.report(fmt.Sprint("排查发现矛盾纠纷 ", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	waitComments(t, n.store, ids, "region")
	cancel()
	wg.Wait()
	cur, err := n.store.Changes.Cursor(consumer("region"))
	if err != nil || cur == 0 {
		t.Fatalf("the cursor did not move: %d %v", cur, err)
	}
	// A new leader hands the same changes over again: nothing is applied twice.
	page, err := n.store.Changes.ForPlugin(0, 1000, &n.m.runningNow()[0].version)
	if err != nil {
		t.Fatal(err)
	}
	if !n.m.handOver(context.Background(), n.m.runningNow()[0], page.Changes) {
		t.Fatal("the redelivery failed")
	}
	waitComments(t, n.store, ids, "region")
	// A later leader resumes from the cursor.
	ev, err := n.report("排查发现矛盾纠纷 again")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	wg.Go(func() { n.m.RunLeader(ctx) })
	waitComments(t, n.store, append(ids, ev.ID), "region")
	cancel()
	wg.Wait()
	if !strings.Contains(n.logs.String(), "plugin started") {
		t.Fatal("the manager logged nothing")
	}
}

// A plugin's cron job runs from the store's job list, for each scheduled
// minute, with the scheduled time: run again for the same minute, it
// changes nothing.
func TestPluginJobsJoinTheJobList(t *testing.T) {
	n := newNode(t)
	n.enable(t, "region", n.install(t, regionBin(t, ""), "region"), nil)
	n.waitState(t, "region", false, StateRunning)
	remove := n.store.AddJobs(n.m.Jobs)
	defer remove()
	var jobs []string
	for _, j := range n.store.Jobs() {
		jobs = append(jobs, j.Name)
	}
	if !slices.Contains(jobs, "plugin:region:tick") {
		t.Fatalf("the job list: %v", jobs)
	}
	start := time.Date(2026, 12, 7, 10, 0, 30, 0, time.UTC)
	var mu sync.Mutex
	now := start
	asked := make(chan struct{})
	var once sync.Once
	clock := func() time.Time {
		once.Do(func() { close(asked) })
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		n.store.RunJobs(ctx, nil, core.JobOptions{Clock: clock, Tick: 5 * time.Millisecond})
		close(done)
	}()
	<-asked // the runner starts at 10:00:30
	mu.Lock()
	now = start.Add(2 * time.Minute) // 10:01 and 10:02 are due
	mu.Unlock()
	for _, minute := range []string{"2026-12-07T10:01", "2026-12-07T10:02"} {
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if _, err := n.store.Plugins.Record("region", "511083", "ticks", minute); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the job did not run for %s", minute)
			}
		}
	}
	cancel()
	<-done
	if _, err := n.store.Plugins.Record("region", "511083", "ticks", "2026-12-07T10:03"); err == nil {
		t.Fatal("the job ran for a minute not yet due")
	}
	before, _ := n.store.Engine().Digest()
	if err := n.m.RunJobNow(context.Background(), "region", "tick", time.Date(2026, 12, 7, 10, 1, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if after, _ := n.store.Engine().Digest(); after != before {
		t.Fatal("a job run again for the same minute changed the state")
	}
}
