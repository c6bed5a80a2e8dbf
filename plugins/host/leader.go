package host

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// What only the group's leader runs for the plugins: delivering the change
// feed to their OnTransition hooks (RunLeader), and their cron jobs, which
// join the store's job list (Jobs). Both propose what the plugin answers
// through core.Plugins.Execute, keyed by the feed position or the
// scheduled time, so a new leader that hands the same change or the same
// run over again has its commands applied once.

// Delivery tuning.
const (
	// TransitionBatch is the most changes one OnTransition call carries.
	TransitionBatch = 256
	// ackEvery is how often the replicated cursor moves while changes flow;
	// a change after it is delivered again after a failover, harmlessly.
	ackEvery = 500 * time.Millisecond
)

// RunLeader delivers the change feed to every running plugin that hears
// it until ctx ends (the node lost leadership, or stops). replica.WhileLeader
// runs it on the leader; an embedded program runs it directly.
func (m *Manager) RunLeader(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	workers := map[string]context.CancelFunc{}
	defer func() {
		for _, stop := range workers {
			stop()
		}
	}()
	t := time.NewTicker(m.o.SyncEvery)
	defer t.Stop()
	for {
		want := map[string]func(context.Context){}
		for _, run := range m.runningNow() {
			if run.sup == nil {
				continue
			}
			id := run.version.Name + "@" + run.version.Version
			if run.version.Serves(model.HookOnTransition) {
				want[id+"/feed"] = func(ctx context.Context) { m.deliver(ctx, run) }
			}
		}
		for id, stop := range workers {
			if _, ok := want[id]; !ok {
				stop()
				delete(workers, id)
			}
		}
		for id, fn := range want {
			if _, ok := workers[id]; ok {
				continue
			}
			wctx, stop := context.WithCancel(ctx)
			workers[id] = stop
			wg.Go(func() { fn(wctx) })
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// consumer is a plugin's cursor in the change feed.
func consumer(plugin string) string { return "plugin:" + plugin }

// deliver hands the plugin the changes in its jurisdictions, in order, from
// its replicated cursor on.
func (m *Manager) deliver(ctx context.Context, run *running) {
	name := run.version.Name
	store := m.o.Store
	actx := core.WithActor(ctx, "plugin:"+name)
	pos, err := store.Changes.Cursor(consumer(name))
	if err != nil {
		m.log.Error("plugin cursor", "plugin", name, "err", err)
		return
	}
	acked, lastAck := pos, time.Now()
	ack := func(force bool) {
		if pos == acked || !force && time.Since(lastAck) < ackEvery {
			return
		}
		// The last move is made as the worker stops, after ctx ended.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(actx), 2*time.Second)
		defer cancel()
		if _, err := store.Changes.Ack(cctx, consumer(name), pos); err != nil {
			if ctx.Err() == nil {
				m.log.Warn("plugin cursor not moved", "plugin", name, "err", err)
			}
			return
		}
		acked, lastAck = pos, time.Now()
	}
	defer ack(true)
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		page, err := store.Changes.ForPlugin(pos, TransitionBatch, &run.version)
		if errors.Is(err, errs.ErrConflict) {
			// The retention passed the cursor: what is gone is gone.
			m.log.Error("plugin fell behind the change feed's retention", "plugin", name, "err", err)
			run.note(fmt.Errorf("plugin %s: on_transition: %w", name, err))
			oldest, _, err := store.Changes.Bounds()
			if err != nil || oldest == 0 {
				sleep(ctx, time.Second)
				continue
			}
			pos = oldest - 1
			ack(true)
			continue
		}
		if err != nil {
			m.log.Warn("plugin change feed", "plugin", name, "err", err)
			sleep(ctx, time.Second)
			continue
		}
		if len(page.Changes) > 0 {
			if !m.handOver(ctx, run, page.Changes) {
				if !sleep(ctx, backoff) {
					return
				}
				backoff = min(backoff*2, 5*time.Second)
				continue
			}
			backoff = 50 * time.Millisecond
		}
		pos = page.Next
		ack(false)
		if page.Next >= page.Last {
			wctx, cancel := context.WithTimeout(ctx, ackEvery)
			store.Changes.Wait(wctx, pos)
			cancel()
		}
	}
}

// handOver calls the plugin with changes and proposes its answer. false:
// try the same changes again (the hook fails closed and the plugin did
// not answer).
func (m *Manager) handOver(ctx context.Context, run *running, changes []model.Change) bool {
	name := run.version.Name
	if m.o.OnDeliver != nil {
		m.o.OnDeliver(name, changes)
	}
	cmds, err := callOn(ctx, run, func(p *Plugin) ([]model.PluginCommand, error) { return p.OnTransition(ctx, changes) })
	if err != nil {
		if ctx.Err() != nil {
			return false // this node stops leading: the next leader hands them over
		}
		if run.version.PolicyOf(model.HookOnTransition) == model.FailClosed {
			m.log.Warn("plugin on_transition failed; the changes wait", "plugin", name, "err", err)
			return false
		}
		m.log.Warn("plugin on_transition failed open; the changes are skipped", "plugin", name, "first", changes[0].Seq, "last", changes[len(changes)-1].Seq, "err", err)
		return true
	}
	// Keyed by the change each command answers: c<seq>/<n>. A command
	// the group could not take now (leadership lost, an unknown outcome)
	// holds the changes back: they are handed over again, and what was
	// applied is not applied twice.
	var group []model.PluginCommand
	again := false
	flush := func() {
		if len(group) > 0 && !again {
			again = !m.execute(ctx, run, "c"+strconv.FormatUint(group[0].Seq, 10), group)
		}
		group = nil
	}
	for _, c := range cmds {
		if len(group) > 0 && group[0].Seq != c.Seq {
			flush()
		}
		group = append(group, c)
	}
	flush()
	return !again
}

// execute proposes a plugin's commands and logs those refused. false: some
// could not be proposed now and are to be tried again; a command apply
// refuses is the plugin's to fix, and is not.
func (m *Manager) execute(ctx context.Context, run *running, key string, cmds []model.PluginCommand) bool {
	res, err := m.o.Store.Plugins.Execute(ctx, run.version.Name, key, cmds)
	if err != nil {
		m.log.Warn("plugin commands not proposed", "plugin", run.version.Name, "key", key, "err", err)
		return !transient(ctx, err)
	}
	for i, err := range res {
		if err == nil {
			continue
		}
		if transient(ctx, err) {
			m.log.Warn("plugin command not proposed; its changes are handed over again", "plugin", run.version.Name, "key", key, "n", i, "err", err)
			return false
		}
		m.log.Warn("plugin command refused", "plugin", run.version.Name, "key", key, "n", i, "err", err)
		run.note(err)
	}
	return true
}

// transient reports whether err says the group could not take a command
// now, rather than refused it.
func transient(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, errs.ErrUnavailable) || errors.Is(err, errs.ErrOutcomeUnknown) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errs.ErrClosed)
}

// Jobs are the running plugins' jobs for the store's job list
// (core.Store.AddJobs): each on its cron schedule, named
// plugin:<name>:<job>, run for its scheduled time.
func (m *Manager) Jobs() []core.Job {
	var out []core.Job
	for _, run := range m.runningNow() {
		if run.sup == nil {
			continue
		}
		d := run.sup.Status().Description
		if d == nil {
			continue
		}
		for _, j := range d.Jobs {
			name := run.version.Name
			out = append(out, core.Job{Name: "plugin:" + name + ":" + j.Name, Next: j.Next,
				Run: func(ctx context.Context, at time.Time) error { return m.RunJobNow(ctx, name, j.Name, at) }})
		}
	}
	return out
}

// RunJobNow runs one of a running plugin's jobs for the scheduled time at,
// as the leader's schedule would (an operator's catch-up, and tests).
func (m *Manager) RunJobNow(ctx context.Context, plugin, job string, at time.Time) error {
	m.mu.Lock()
	run, ok := m.running[plugin]
	m.mu.Unlock()
	if !ok {
		return errs.NotFound("name", "plugin %s is not running here", plugin)
	}
	cmds, err := callOn(ctx, run, func(p *Plugin) ([]model.PluginCommand, error) { return p.RunJob(ctx, job, at) })
	if err != nil {
		return err
	}
	res, err := m.o.Store.Plugins.Execute(ctx, plugin, "job/"+job+"/"+strconv.FormatInt(at.Unix(), 10), cmds)
	if err != nil {
		return err
	}
	return errors.Join(res...)
}

// note records a plugin's error on this node's status.
func (r *running) note(err error) {
	if r.sup != nil {
		r.sup.note(err)
	}
}
