package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/model"
)

// The manager runs a node's share of the plugin catalog: it reports what
// the node's plugin directory holds for every registered version, runs the
// enabled version of each plugin whose binary it holds, and serves the
// hooks to the store (hooks.go). A node that lacks an enabled plugin's
// binary, or holds a different one, runs it degraded: it says why and goes
// on serving, the hooks applying each one's failure policy.

// Options configure a Manager.
type Options struct {
	Store *core.Store
	// Dir is the node's plugin directory; binaries run from nowhere else.
	Dir string
	// Node is this node's id, as the catalog's reports and voters name it.
	Node   string
	Logger *slog.Logger
	// StartTimeout and CallTimeout bound each plugin (Config).
	StartTimeout, CallTimeout time.Duration
	Supervise                 SuperviseOptions
	// Observe, if set, is told of every hook call (metrics).
	Observe func(plugin, hook string, took time.Duration, err error)
	// OnDeliver, if set, is told of each batch of changes as it is handed
	// to a plugin (the delivery-lag benchmark).
	OnDeliver func(plugin string, changes []model.Change)
	// Reattach names plugins to reach under a debugger (ParseReattach).
	Reattach Reattach
	// SyncEvery is how often the catalog generation and the directory are
	// looked at; default 200 ms (the directory's files are hashed only
	// when their size or time changed).
	SyncEvery time.Duration
}

// Manager runs the plugins of one node.
type Manager struct {
	o   Options
	log *slog.Logger

	mu      sync.Mutex
	running map[string]*running // by plugin name
	reports map[string]string   // name/version → what this node last reported
	hashes  map[string]fileSum  // path → sum, while the file is unchanged
	gen     uint64
	synced  bool
	// now is running as a slice by name, replaced whole on each change:
	// the report hooks read it without the lock.
	now atomic.Pointer[[]*running]
}

// running is an enabled plugin on this node: supervised, or degraded (no
// supervisor) because the node lacks its binary or holds another.
type running struct {
	version  model.PluginVersion
	sup      *Supervisor
	degraded string // why it does not run here
}

// get is the plugin's process, or an error naming the plugin.
func (r *running) get() (*Plugin, error) {
	if r.sup == nil {
		return nil, fmt.Errorf("plugin %s is degraded on this node: %s: %w", r.version.Name, r.degraded, ErrPluginDown)
	}
	return r.sup.Get()
}

// status is the plugin's state on this node.
func (r *running) status() Status {
	if r.sup == nil {
		return Status{Name: r.version.Name, Version: r.version.Version, SHA256: r.version.SHA256, State: StateDegraded, LastError: r.degraded}
	}
	return r.sup.Status()
}

// fileSum caches a file's hash against its size and modification time.
type fileSum struct {
	size int64
	mod  time.Time
	sum  string
}

// NewManager builds a manager; Run or Sync starts its plugins.
func NewManager(o Options) *Manager {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.SyncEvery <= 0 {
		o.SyncEvery = 200 * time.Millisecond
	}
	return &Manager{o: o, log: o.Logger, running: map[string]*running{}, reports: map[string]string{}, hashes: map[string]fileSum{}}
}

// Run keeps the node's plugins in step with the catalog until ctx ends,
// then stops them all. It installs the manager as the store's hooks and
// adds the plugins' jobs to its job list.
func (m *Manager) Run(ctx context.Context) {
	m.o.Store.SetHooks(m)
	defer m.o.Store.SetHooks(nil)
	defer m.o.Store.AddJobs(m.Jobs)() // the leader's job list runs them
	defer m.stopAll()
	t := time.NewTicker(m.o.SyncEvery)
	defer t.Stop()
	files := time.Now()
	for {
		gen := m.o.Store.Engine().PluginGeneration()
		m.mu.Lock()
		stale := !m.synced || gen != m.gen
		m.mu.Unlock()
		if stale || time.Since(files) > 5*time.Second {
			files = time.Now()
			if err := m.Sync(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("plugin catalog sync", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sync does one pass: report this node's binaries where its report
// changed, and start, switch or stop plugins to match the catalog.
func (m *Manager) Sync(ctx context.Context) error {
	gen := m.o.Store.Engine().PluginGeneration()
	catalog, err := m.o.Store.Plugins.List()
	if err != nil {
		return err
	}
	var errsSeen []error
	local := map[string]model.PluginReport{} // name/version → this node's finding
	for _, info := range catalog {
		for _, v := range info.Versions {
			r := m.inspect(v)
			local[v.Name+"/"+v.Version] = r
			if err := m.report(ctx, info, r); err != nil {
				errsSeen = append(errsSeen, err)
			}
		}
	}
	want := map[string]*running{}
	for _, info := range catalog {
		if info.Active == nil {
			continue
		}
		for _, v := range info.Versions {
			if v.Version != info.Active.Version {
				continue
			}
			r := &running{version: v}
			if l := local[v.Name+"/"+v.Version]; l.Status != model.BinaryOK {
				r.degraded = l.Reason
			}
			want[v.Name] = r
		}
	}
	var stopping []*running
	defer func() {
		for _, r := range stopping { // outside the lock: Stop waits for the process
			r.sup.Stop()
			m.log.Info("plugin stopped", "plugin", r.version.Name, "version", r.version.Version)
		}
	}()
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, r := range m.running {
		w, ok := want[name]
		if ok && w.version.Version == r.version.Version && w.version.SHA256 == r.version.SHA256 && w.degraded == r.degraded {
			continue
		}
		if r.sup != nil {
			stopping = append(stopping, r)
		}
		delete(m.running, name)
	}
	for name, w := range want {
		if _, ok := m.running[name]; ok {
			continue
		}
		if w.degraded != "" {
			m.log.Warn("plugin degraded on this node", "plugin", name, "version", w.version.Version, "reason", w.degraded)
		} else {
			w.sup = Supervise(m.config(w.version), w.version.Version, m.o.Supervise)
			m.log.Info("plugin started", "plugin", name, "version", w.version.Version, "sha256", w.version.SHA256)
		}
		m.running[name] = w
	}
	if len(errsSeen) == 0 {
		m.gen, m.synced = gen, true
	}
	m.publish()
	return errors.Join(errsSeen...)
}

func (m *Manager) config(v model.PluginVersion) Config {
	name := v.Name
	cfg := Config{Name: name, Path: filepath.Join(m.o.Dir, v.File), SHA256: v.SHA256, Config: v.Config, Jurisdictions: v.Jurisdictions,
		Logger: m.log, StartTimeout: m.o.StartTimeout, CallTimeout: m.o.CallTimeout,
		Host: &hostService{store: m.o.Store, version: v}}
	if m.o.Observe != nil {
		cfg.Observe = func(hook string, took time.Duration, err error) { m.o.Observe(name, hook, took, err) }
	}
	if rc, ok := m.o.Reattach[name]; ok {
		cfg.Reattach = rc
		m.log.Warn("plugin reattached: its checksum is not checked", "plugin", name)
	}
	return cfg
}

// inspect hashes a registered version's file in the plugin directory.
func (m *Manager) inspect(v model.PluginVersion) model.PluginReport {
	r := model.PluginReport{Name: v.Name, Version: v.Version, Node: m.o.Node}
	path := filepath.Join(m.o.Dir, v.File)
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		r.Status, r.Reason = model.BinaryMissing, fmt.Sprintf("no file %s in the plugin directory %s", v.File, m.o.Dir)
		return r
	}
	m.mu.Lock()
	c, ok := m.hashes[path]
	m.mu.Unlock()
	if !ok || c.size != fi.Size() || !c.mod.Equal(fi.ModTime()) {
		sum, err := FileSHA256(path)
		if err != nil {
			r.Status, r.Reason = model.BinaryMissing, fmt.Sprintf("%s: %v", v.File, err)
			return r
		}
		c = fileSum{size: fi.Size(), mod: fi.ModTime(), sum: sum}
		m.mu.Lock()
		m.hashes[path] = c
		m.mu.Unlock()
	}
	r.SHA256 = c.sum
	if c.sum != v.SHA256 {
		r.Status, r.Reason = model.BinaryMismatch, fmt.Sprintf("%s hashes to %s, not the registered %s", v.File, c.sum, v.SHA256)
		return r
	}
	r.Status = model.BinaryOK
	return r
}

// report proposes this node's finding when the catalog holds another.
func (m *Manager) report(ctx context.Context, info model.PluginInfo, r model.PluginReport) error {
	for _, old := range info.Reports {
		if old.Version == r.Version && old.Node == r.Node && old.Status == r.Status && old.SHA256 == r.SHA256 && old.Reason == r.Reason {
			return nil
		}
	}
	if err := m.o.Store.Plugins.Report(core.WithActor(ctx, "node:"+m.o.Node), r); err != nil {
		return fmt.Errorf("plugin %s %s: report: %w", r.Name, r.Version, err)
	}
	m.log.Info("plugin binary reported", "plugin", r.Name, "version", r.Version, "status", r.Status)
	return nil
}

// publish replaces the snapshot runningNow reads; m.mu is held.
func (m *Manager) publish() {
	out := make([]*running, 0, len(m.running))
	for _, r := range m.running {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *running) int { return strings.Compare(a.version.Name, b.version.Name) })
	m.now.Store(&out)
}

// runningNow lists the enabled plugins on this node, by name.
func (m *Manager) runningNow() []*running {
	if p := m.now.Load(); p != nil {
		return *p
	}
	return nil
}

// Supervisor is the supervisor of a running plugin.
func (m *Manager) Supervisor(name string) (*Supervisor, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.running[name]
	if !ok || r.sup == nil {
		return nil, false
	}
	return r.sup, true
}

// Statuses reports the enabled plugins' states on this node.
func (m *Manager) Statuses() map[string]Status {
	out := map[string]Status{}
	for _, r := range m.runningNow() {
		out[r.version.Name] = r.status()
	}
	return out
}

func (m *Manager) stopAll() {
	m.mu.Lock()
	all := m.running
	m.running = map[string]*running{}
	m.synced = false
	m.publish()
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, r := range all {
		if r.sup != nil {
			wg.Go(r.sup.Stop)
		}
	}
	wg.Wait()
}
