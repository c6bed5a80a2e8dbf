package host

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Supervision keeps one plugin process running: it restarts a crashed or
// silent plugin with backoff, and stops trying for a while (the circuit
// breaker) after repeated crashes, so a broken binary costs the node a
// few failed starts a minute rather than a busy loop.

// Plugin states a supervisor reports.
const (
	StateStarting = "starting"
	StateRunning  = "running"
	StateBackoff  = "backoff" // down, restarting after a pause
	StateBroken   = "broken"  // the circuit breaker is open
	StateStopped  = "stopped"
	// StateDegraded: enabled, but this node lacks the registered binary.
	StateDegraded = "degraded"
)

// ErrPluginDown marks a call to a plugin that is not running now.
var ErrPluginDown = fmt.Errorf("plugin not running: %w", errs.ErrUnavailable)

// SuperviseOptions tune a supervisor; zero values take the defaults.
type SuperviseOptions struct {
	HealthEvery time.Duration // ping period, default 5 s
	CheckEvery  time.Duration // how often to look for an exited process, default 250 ms
	MinBackoff  time.Duration // default 200 ms, doubling
	MaxBackoff  time.Duration // default 30 s
	// BreakAfter crashes within BreakWindow open the breaker for
	// BreakFor; then one start is tried again. Defaults 5, 1 min, 1 min.
	BreakAfter  int
	BreakWindow time.Duration
	BreakFor    time.Duration
	// FailAfter consecutive failed calls (a plugin that hangs but still
	// answers pings) restart it; default 5.
	FailAfter int
}

func (o *SuperviseOptions) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&o.HealthEvery, 5*time.Second)
	set(&o.CheckEvery, 250*time.Millisecond)
	set(&o.MinBackoff, 200*time.Millisecond)
	set(&o.MaxBackoff, 30*time.Second)
	set(&o.BreakWindow, time.Minute)
	set(&o.BreakFor, time.Minute)
	if o.BreakAfter <= 0 {
		o.BreakAfter = 5
	}
	if o.FailAfter <= 0 {
		o.FailAfter = 5
	}
}

// Status is what a supervisor knows of its plugin.
type Status struct {
	Name        string       `json:"name"`
	Version     string       `json:"version"`
	SHA256      string       `json:"sha256"`
	State       string       `json:"state"`
	Restarts    uint64       `json:"restarts"`
	Calls       uint64       `json:"calls"`
	Errors      uint64       `json:"errors"`
	LastError   string       `json:"last_error,omitempty"`
	LastErrorAt time.Time    `json:"last_error_at,omitzero"`
	Description *Description `json:"description,omitempty"`
}

// Supervisor runs one plugin and keeps it running.
type Supervisor struct {
	cfg     Config
	version string
	opts    SuperviseOptions

	mu        sync.Mutex
	cur       *Plugin
	state     string
	lastErr   string
	lastErrAt time.Time
	desc      *Description
	crashes   []time.Time

	restarts, calls, errors atomic.Uint64
	failing                 atomic.Int64 // consecutive failed calls
	kick                    chan struct{}
	stop                    context.CancelFunc
	done                    chan struct{}
}

// Supervise starts the plugin and keeps it running until Stop. It returns
// at once; the first start happens in the background.
func Supervise(cfg Config, version string, opts SuperviseOptions) *Supervisor {
	opts.defaults()
	s := &Supervisor{version: version, opts: opts, state: StateStarting, kick: make(chan struct{}, 1), done: make(chan struct{})}
	observe := cfg.Observe
	cfg.Observe = func(hook string, took time.Duration, err error) {
		s.calls.Add(1)
		if err != nil {
			s.errors.Add(1)
			s.note(err)
			if s.failing.Add(1) >= int64(opts.FailAfter) {
				s.restart()
			}
		} else {
			s.failing.Store(0)
		}
		if observe != nil {
			observe(hook, took, err)
		}
	}
	s.cfg = cfg
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go s.loop(ctx)
	return s
}

// Get is the running plugin, or an error naming it and its state.
func (s *Supervisor) Get() (*Plugin, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		if s.lastErr != "" {
			return nil, fmt.Errorf("plugin %s is %s (last error: %s): %w", s.cfg.Name, s.state, s.lastErr, ErrPluginDown)
		}
		return nil, fmt.Errorf("plugin %s is %s: %w", s.cfg.Name, s.state, ErrPluginDown)
	}
	return s.cur, nil
}

// Wait blocks until the plugin runs or ctx ends.
func (s *Supervisor) Wait(ctx context.Context) (*Plugin, error) {
	for {
		if p, err := s.Get(); err == nil {
			return p, nil
		}
		select {
		case <-ctx.Done():
			return s.Get()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Status reports the plugin's state and counts.
func (s *Supervisor) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Status{Name: s.cfg.Name, Version: s.version, SHA256: s.cfg.SHA256, State: s.state,
		Restarts: s.restarts.Load(), Calls: s.calls.Load(), Errors: s.errors.Load(),
		LastError: s.lastErr, LastErrorAt: s.lastErrAt, Description: s.desc}
}

// Stop ends the plugin and its supervision.
func (s *Supervisor) Stop() {
	s.stop()
	<-s.done
}

func (s *Supervisor) note(err error) {
	s.mu.Lock()
	s.lastErr, s.lastErrAt = err.Error(), time.Now()
	s.mu.Unlock()
}

func (s *Supervisor) set(state string, p *Plugin) {
	s.mu.Lock()
	s.state, s.cur = state, p
	if p != nil {
		s.desc = p.Desc
	}
	s.mu.Unlock()
}

// restart asks the loop to kill and start the plugin again.
func (s *Supervisor) restart() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Supervisor) loop(ctx context.Context) {
	defer close(s.done)
	backoff := s.opts.MinBackoff
	first := true
	for ctx.Err() == nil {
		if !first {
			s.restarts.Add(1)
		}
		first = false
		s.set(StateStarting, nil)
		p, err := Start(ctx, s.cfg)
		if err != nil {
			s.note(err)
			if s.crashed() {
				s.set(StateBroken, nil)
				if !sleep(ctx, s.opts.BreakFor) {
					break
				}
				continue
			}
			s.set(StateBackoff, nil)
			if !sleep(ctx, backoff) {
				break
			}
			backoff = min(backoff*2, s.opts.MaxBackoff)
			continue
		}
		s.failing.Store(0)
		select { // a kick from before this start is stale
		case <-s.kick:
		default:
		}
		s.set(StateRunning, p)
		healthy := s.watch(ctx, p)
		s.set(StateBackoff, nil)
		p.Kill()
		if ctx.Err() != nil {
			break
		}
		if healthy {
			backoff = s.opts.MinBackoff // it ran well: start again at once
		}
		if s.crashed() {
			s.set(StateBroken, nil)
			if !sleep(ctx, s.opts.BreakFor) {
				break
			}
			continue
		}
		if !sleep(ctx, backoff) {
			break
		}
		backoff = min(backoff*2, s.opts.MaxBackoff)
	}
	s.set(StateStopped, nil)
}

// watch returns when the plugin has to go: it exited, stopped answering
// pings, failed too many calls, or ctx ended. healthy says it ran for a
// whole health period first.
func (s *Supervisor) watch(ctx context.Context, p *Plugin) (healthy bool) {
	check := time.NewTicker(s.opts.CheckEvery)
	defer check.Stop()
	ping := time.NewTicker(s.opts.HealthEvery)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return healthy
		case <-check.C:
			if p.Exited() {
				s.note(fmt.Errorf("plugin %s: the process exited", s.cfg.Name))
				return healthy
			}
		case <-ping.C:
			if err := p.Ping(); err != nil {
				s.note(err)
				return healthy
			}
			healthy = true
		case <-s.kick:
			s.note(fmt.Errorf("plugin %s: %d calls failed in a row: restarted", s.cfg.Name, s.opts.FailAfter))
			return healthy
		}
	}
}

// crashed counts a crash and says whether the breaker opens.
func (s *Supervisor) crashed() bool {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := s.crashes[:0]
	for _, t := range s.crashes {
		if now.Sub(t) < s.opts.BreakWindow {
			keep = append(keep, t)
		}
	}
	s.crashes = append(keep, now)
	if len(s.crashes) >= s.opts.BreakAfter {
		s.crashes = s.crashes[:0]
		return true
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// IsDown reports whether err is a call to a plugin that is not running.
func IsDown(err error) bool { return errors.Is(err, ErrPluginDown) }
