package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/federation/replica"
	"github.com/fengqiao/fengqiao/plugins/host"
)

// runPlugins starts this node's plugin manager over dir: it reports the
// directory's binaries to the catalog and runs the enabled plugins on every
// replica (the report hooks run where a report is proposed), and delivers
// the change feed and runs the plugins' jobs on the leader only.
func runPlugins(ctx context.Context, wg *sync.WaitGroup, r *replica.Replica, store *core.Store, dir string, log *slog.Logger, m *metrics) (*host.Manager, error) {
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("node: plugin directory %s: %w", dir, errors.Join(err, errs.Invalid("plugin_dir", "dir", "not a directory")))
	}
	reattach, err := host.ParseReattach(os.Getenv(host.ReattachEnv))
	if err != nil {
		return nil, err
	}
	mgr := host.NewManager(host.Options{Store: store, Dir: dir, Node: r.ID, Logger: log, Reattach: reattach, Observe: m.pluginCall})
	m.watchPlugins(mgr)
	wg.Add(2)
	go func() {
		defer wg.Done()
		mgr.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		r.WhileLeader(ctx, mgr.RunLeader)
	}()
	return mgr, nil
}

// devPlugins registers and enables every plugin binary in dir for the dev
// county, printing each checksum as it is taken: serve --dev --plugins.
// A binary registered before (the same data directory) is enabled again.
func devPlugins(ctx context.Context, store *core.Store, mgr *host.Manager, dir, county, node string, out io.Writer) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("node: --plugins %s: %w", dir, err)
	}
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 || e.Name()[0] == '.' {
			continue
		}
		sum, err := host.FileSHA256(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "plugin %s sha256 %s\n", e.Name(), sum)
		v, err := mgr.Register(ctx, host.Registration{File: e.Name(), SHA256: sum, Jurisdictions: []string{county}})
		if errors.Is(err, errs.ErrConflict) {
			if v, err = registered(store, e.Name(), sum); err != nil {
				return err
			}
		} else if err != nil {
			return fmt.Errorf("node: plugin %s: %w", e.Name(), err)
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err = mgr.EnableWhenReported(wctx, v.Name, v.Version, []string{node})
		cancel()
		if err != nil {
			return fmt.Errorf("node: enable plugin %s: %w", v.Name, err)
		}
		fmt.Fprintf(out, "plugin %s %s enabled (hooks %v)\n", v.Name, v.Version, v.Hooks)
	}
	return nil
}

// registered finds the catalog's version of a file with this checksum.
func registered(store *core.Store, file, sum string) (*model.PluginVersion, error) {
	all, err := store.Plugins.List()
	if err != nil {
		return nil, err
	}
	for _, info := range all {
		if i := slices.IndexFunc(info.Versions, func(v model.PluginVersion) bool { return v.File == file && v.SHA256 == sum }); i >= 0 {
			return &info.Versions[i], nil
		}
	}
	return nil, errs.Conflict("file", "exists", "plugin file %s: its name and version are registered with another binary; raise its version", file)
}

// pluginCall counts one hook call (host.Options.Observe).
func (m *metrics) pluginCall(plugin, hook string, took time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.pluginCalls.WithLabelValues(plugin, hook, outcome).Inc()
	m.pluginLatency.WithLabelValues(plugin, hook).Observe(took.Seconds())
}

// watchPlugins exports each running plugin's restarts and health.
func (m *metrics) watchPlugins(mgr *host.Manager) { m.reg.MustRegister(&pluginCollector{mgr: mgr}) }

var (
	descPluginRestarts = prometheus.NewDesc("fengqiao_plugin_restarts_total", "Times this node restarted a plugin's process.", []string{"plugin"}, nil)
	descPluginUp       = prometheus.NewDesc("fengqiao_plugin_up", "1 while the plugin runs on this node; 0 when it is down, broken or degraded.", []string{"plugin", "state"}, nil)
)

type pluginCollector struct{ mgr *host.Manager }

func (c *pluginCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descPluginRestarts
	ch <- descPluginUp
}

func (c *pluginCollector) Collect(ch chan<- prometheus.Metric) {
	for name, st := range c.mgr.Statuses() {
		ch <- prometheus.MustNewConstMetric(descPluginRestarts, prometheus.CounterValue, float64(st.Restarts), name)
		up := 0.0
		if st.State == host.StateRunning {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(descPluginUp, prometheus.GaugeValue, up, name, st.State)
	}
}
