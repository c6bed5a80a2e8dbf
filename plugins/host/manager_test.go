package host

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// regionBins builds the region test plugin once per mode (testdata/region).
var regionBins = struct {
	sync.Mutex
	dir  string
	path map[string]string
}{path: map[string]string{}}

func regionBin(t testing.TB, mode string) string {
	t.Helper()
	regionBins.Lock()
	defer regionBins.Unlock()
	if p, ok := regionBins.path[mode]; ok {
		return p
	}
	if regionBins.dir == "" {
		d, err := os.MkdirTemp("", "fengqiao-region-")
		if err != nil {
			t.Fatal(err)
		}
		regionBins.dir = d
	}
	bin := filepath.Join(regionBins.dir, "region-"+mode)
	args := []string{"build", "-o", bin}
	if mode != "" {
		args = append(args, "-ldflags", "-X main.mode="+mode)
	}
	if out, err := exec.Command("go", append(args, "./testdata/region")...).CombinedOutput(); err != nil {
		t.Fatalf("build region %s: %v\n%s", mode, err, out)
	}
	regionBins.path[mode] = bin
	return bin
}

// node is an embedded store with a county, a plugin directory and a
// manager, as one node of a group would hold them.
type node struct {
	store *core.Store
	m     *Manager
	dir   string
	grid  string
	ctx   context.Context
	logs  *strings.Builder
}

func newNode(t *testing.T) *node {
	t.Helper()
	s, err := core.Open(t.TempDir(), core.Options{Engine: state.EngineOptions{NoSync: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := core.WithActor(context.Background(), "tester")
	if _, err := s.Jurisdictions.LoadCounty(ctx, "511083", 2); err != nil {
		t.Fatal(err)
	}
	grids, _, err := s.Grids.List("511083", "", 1)
	if err != nil || len(grids) == 0 {
		t.Fatal(err)
	}
	logs := &strings.Builder{}
	var mu sync.Mutex
	dir := t.TempDir()
	m := NewManager(Options{Store: s, Dir: dir, Node: "local", CallTimeout: 300 * time.Millisecond, StartTimeout: 2 * time.Second,
		Logger:    slog.New(slog.NewJSONHandler(lockedWriter{&mu, logs}, nil)),
		Supervise: SuperviseOptions{MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, HealthEvery: 200 * time.Millisecond}})
	s.SetHooks(m)
	t.Cleanup(m.stopAll)
	return &node{store: s, m: m, dir: dir, grid: grids[0].Code, ctx: ctx, logs: logs}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// install copies a binary into the node's plugin directory.
func (n *node) install(t *testing.T, src, file string) string {
	t.Helper()
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	// Written aside and renamed over, as a deploy would: a running
	// binary cannot be written in place.
	tmp := filepath.Join(n.dir, "."+file+".new")
	if err := os.WriteFile(tmp, raw, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(n.dir, file)); err != nil {
		t.Fatal(err)
	}
	sum, _ := FileSHA256(filepath.Join(n.dir, file))
	return sum
}

// enable registers the binary, lets the node report it and enables it.
func (n *node) enable(t *testing.T, file, sum string, policy map[string]string) *model.PluginVersion {
	t.Helper()
	v, err := n.m.Register(n.ctx, Registration{File: file, SHA256: sum, Jurisdictions: []string{"511083"}, Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.m.EnableWhenReported(n.ctx, v.Name, v.Version, []string{"local"}); err != nil {
		t.Fatal(err)
	}
	n.sync(t)
	return v
}

func (n *node) sync(t *testing.T) {
	t.Helper()
	if err := n.m.Sync(n.ctx); err != nil {
		t.Fatal(err)
	}
}

func (n *node) report(desc string) (*model.Event, error) {
	return n.store.Events.Report(n.ctx, model.Report{Category: "dispute", Description: desc, Grid: n.grid})
}

// waitState waits for the plugin to reach a state on this node (and,
// with failed, to have a last error).
func (n *node) waitState(t *testing.T, name string, failed bool, states ...string) Status {
	t.Helper()
	var st Status
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		st = n.m.Statuses()[name]
		for _, s := range states {
			if st.State == s && (!failed || st.LastError != "") {
				return st
			}
		}
	}
	t.Fatalf("plugin %s is %+v, want one of %v", name, st, states)
	return st
}

// The hooks of an enabled plugin run before proposing, their results are
// part of the event, and its refusals name it.
func TestManagerRunsTheEnabledPlugin(t *testing.T) {
	n := newNode(t)
	sum := n.install(t, regionBin(t, ""), "region")
	v := n.enable(t, "region", sum, nil)
	if !v.Serves(model.HookValidateEvent) || !v.Serves(model.HookRouteEvent) || !v.Serves(model.HookOnTransition) {
		t.Fatalf("registered hooks: %v", v.Hooks)
	}
	n.waitState(t, "region", false, StateRunning)
	ev, err := n.report("楼道堆放杂物有火灾隐患")
	if err != nil {
		t.Fatal(err)
	}
	var rt model.Routing
	json.Unmarshal(ev.Ext[model.ExtRoute], &rt)
	if string(ev.Ext["region:risk"]) != `"high"` || rt.Plugin != "region" || rt.Department != "综治办" {
		t.Fatalf("the event lacks what the plugin added: %s", mustJSON(ev.Ext))
	}
	if _, err := n.report("拒绝处理"); !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), "plugin region") {
		t.Fatalf("a report the plugin refuses: %v", err)
	}
	// A caller may not write in a plugin's namespace.
	_, err = n.store.Events.Report(n.ctx, model.Report{Category: "dispute", Description: "d", Grid: n.grid, Ext: map[string]json.RawMessage{"region:risk": json.RawMessage(`"low"`)}})
	if !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "ext" {
		t.Fatalf("a caller writing a plugin's field: %v", err)
	}
	// Outside the plugin's jurisdictions no hook runs.
	if err := n.store.Plugins.Disable(n.ctx, "region"); err != nil {
		t.Fatal(err)
	}
	n.sync(t)
	if len(n.m.Statuses()) != 0 {
		t.Fatalf("a disabled plugin still runs: %+v", n.m.Statuses())
	}
	ev, err = n.report("拒绝处理")
	if err != nil || len(ev.Ext) != 0 {
		t.Fatalf("a disabled plugin still acts: %+v %v", ev, err)
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// Every way a plugin can misbehave, with real binaries: the node stays up,
// no event is lost (fail-open stores it and notes the hook on the
// timeline; fail-closed refuses it with an error naming the plugin, and
// stores nothing), and the plugin's state says what happened.
func TestFailurePolicies(t *testing.T) {
	hooks := []string{model.HookValidateEvent, model.HookEnrichEvent, model.HookRouteEvent}
	cases := []struct {
		mode    string
		skipped []string // hooks that fail open
		states  []string // the plugin's state afterwards
	}{
		{"crash_start", hooks, []string{StateBackoff, StateBroken, StateStarting}},
		{"protocol", hooks, []string{StateBackoff, StateBroken, StateStarting}},
		{"crash_call", hooks, []string{StateRunning, StateBackoff, StateStarting, StateBroken}},
		{"hang", hooks, []string{StateRunning, StateBackoff, StateStarting}},
		{"slow", hooks, []string{StateRunning, StateBackoff, StateStarting}},
		{"oversize", hooks[:1], []string{StateRunning}},
		{"garbage", hooks, []string{StateRunning, StateBackoff, StateStarting}},
		{"stdout", nil, []string{StateRunning}},
		{"checksum", hooks, []string{StateDegraded}},
	}
	good := regionBin(t, "")
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			for _, policy := range []string{model.FailOpen, model.FailClosed} {
				n := newNode(t)
				pol := map[string]string{}
				for _, h := range hooks {
					pol[h] = policy
				}
				switch c.mode {
				case "checksum": // enabled with its binary, then the file is replaced
					n.enable(t, "region", n.install(t, good, "region"), pol)
					n.waitState(t, "region", false, StateRunning)
					n.install(t, regionBin(t, "stdout"), "region")
					n.sync(t)
				case "crash_start", "protocol":
					// Registration starts the binary, so it is refused there ...
					sum := n.install(t, regionBin(t, c.mode), "region")
					_, err := n.m.Register(n.ctx, Registration{File: "region", SHA256: sum, Jurisdictions: []string{"511083"}})
					if err == nil || !strings.Contains(err.Error(), "plugin region") || c.mode == "protocol" && !strings.Contains(err.Error(), "Plugin version: 99") {
						t.Fatalf("registering a binary that cannot start: %v", err)
					}
					// ... and one that breaks later is supervised.
					v := model.PluginVersion{Name: "region", Version: "1.0.0", File: "region", SHA256: sum, Hooks: hooks, Jurisdictions: []string{"511083"}, Policy: pol}
					if _, err := n.store.Plugins.Register(n.ctx, v); err != nil {
						t.Fatal(err)
					}
					n.sync(t)
					if _, err := n.store.Plugins.Enable(n.ctx, "region", "1.0.0", []string{"local"}); err != nil {
						t.Fatal(err)
					}
					n.sync(t)
				default:
					n.enable(t, "region", n.install(t, regionBin(t, c.mode), "region"), pol)
					n.waitState(t, "region", false, StateRunning)
				}
				ev, err := n.report("楼道堆放杂物有火灾隐患")
				if policy == model.FailClosed && len(c.skipped) > 0 {
					if !strings.Contains(fmtErr(err), "plugin region") || ev != nil {
						t.Fatalf("%s, fail-closed: %v, want a refusal naming the plugin", c.mode, err)
					}
				} else {
					if err != nil {
						t.Fatalf("%s, fail-open: the report was lost: %v", c.mode, err)
					}
					got, tl, err := n.store.Events.Detail(ev.ID)
					if err != nil {
						t.Fatal(err)
					}
					var skipped []model.Skipped
					json.Unmarshal(got.Ext[model.ExtSkipped], &skipped)
					var names []string
					for _, s := range skipped {
						names = append(names, s.Hook)
						if s.Plugin != "region" || s.Error == "" || tl[0].Data["skipped:region:"+s.Hook] == "" {
							t.Fatalf("%s: the skip is not noted: %+v, timeline %+v", c.mode, s, tl[0])
						}
					}
					if strings.Join(names, ",") != strings.Join(c.skipped, ",") {
						t.Fatalf("%s: skipped %v, want %v", c.mode, names, c.skipped)
					}
				}
				// The plugin's state says what happened, and the node goes on
				// once the plugin is disabled.
				n.waitState(t, "region", len(c.skipped) > 0, c.states...)
				if err := n.store.Plugins.Disable(n.ctx, "region"); err != nil {
					t.Fatal(err)
				}
				n.sync(t)
				if ev, err := n.report("楼道堆放杂物有火灾隐患"); err != nil || len(ev.Ext) != 0 {
					t.Fatalf("%s: the node is hurt: %+v %v", c.mode, ev, err)
				}
			}
		})
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
