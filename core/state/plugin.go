package state

import (
	"slices"
	"strings"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// The plugin catalog (DESIGN.md, Plugins): registered versions, the version
// that runs, and what each node found in its plugin directory. It is
// replicated state, so every replica agrees on which binary runs.

func pluginVersionKey(name, version string) []byte {
	return []byte(pluginVersionPrefix + name + "/" + version)
}

func pluginActiveKey(name string) []byte { return []byte(pluginActivePrefix + name) }

func pluginReportKey(name, version, node string) []byte {
	return []byte(pluginReportPrefix + name + "/" + version + "/" + node)
}

func applyPluginRegister(t *txn, c *Command, p *model.PluginVersion) (any, error) {
	if inputRules(c) {
		if err := p.Check(); err != nil {
			return nil, err
		}
	}
	key := pluginVersionKey(p.Name, p.Version)
	if t.b(bPlugin).Get(key) != nil {
		return nil, errs.Conflict("version", "exists", "plugin %s %s is registered already; a version never changes, register a new one", p.Name, p.Version)
	}
	p.RegisteredAt, p.RegisteredBy = c.At, c.Actor
	t.effect(bumpPlugins)
	return p, t.putRecord(bPlugin, key, p)
}

func applyPluginReport(t *txn, c *Command, r *model.PluginReport) (any, error) {
	if inputRules(c) {
		if err := r.Check(); err != nil {
			return nil, err
		}
	}
	if t.b(bPlugin).Get(pluginVersionKey(r.Name, r.Version)) == nil {
		return nil, errs.NotFound("version", "plugin %s %s is not registered", r.Name, r.Version)
	}
	r.At = c.At
	t.effect(bumpPlugins)
	return r, t.putRecord(bPlugin, pluginReportKey(r.Name, r.Version, r.Node), r)
}

func applyPluginEnable(t *txn, c *Command, e *model.PluginEnable) (any, error) {
	if e.Version == "" {
		if t.b(bPlugin).Get(pluginActiveKey(e.Name)) == nil {
			return nil, errs.NotFound("name", "plugin %s is not enabled", e.Name)
		}
		t.effect(bumpPlugins)
		return nil, t.del(bPlugin, pluginActiveKey(e.Name))
	}
	var v model.PluginVersion
	if ok, err := t.getRecord(bPlugin, pluginVersionKey(e.Name, e.Version), &v); err != nil {
		return nil, err
	} else if !ok {
		return nil, errs.NotFound("version", "plugin %s %s is not registered", e.Name, e.Version)
	}
	if len(e.Voters) == 0 {
		return nil, errs.Invalid("voters", "required", "plugin %s: enabling needs the group's voters", e.Name)
	}
	// The same binary on every voter: a leader change never changes
	// which code runs.
	for _, node := range e.Voters {
		var r model.PluginReport
		ok, err := t.getRecord(bPlugin, pluginReportKey(e.Name, e.Version, node), &r)
		if err != nil {
			return nil, err
		}
		switch {
		case !ok:
			return nil, errs.Conflict("voters", "unchecked", "plugin %s %s: voter %s has not reported its binary yet", e.Name, e.Version, node)
		case r.Status != model.BinaryOK || r.SHA256 != v.SHA256:
			return nil, errs.Conflict("voters", "binary", "plugin %s %s: voter %s reports its binary %s (%s)", e.Name, e.Version, node, r.Status, r.Reason)
		}
	}
	t.effect(bumpPlugins)
	a := &model.PluginActive{Name: e.Name, Version: e.Version, SHA256: v.SHA256, Voters: slices.Sorted(slices.Values(e.Voters)), EnabledAt: c.At, EnabledBy: c.Actor}
	return a, t.putRecord(bPlugin, pluginActiveKey(e.Name), a)
}

func bumpPlugins(e *Engine) { e.plugGen.Add(1) }

// Plugins reads the catalog: every plugin with its versions (oldest
// first), its active version and the nodes' reports.
func (eng *Engine) Plugins() ([]model.PluginInfo, error) {
	var out []model.PluginInfo
	at := func(name string) *model.PluginInfo {
		i, ok := slices.BinarySearchFunc(out, name, func(p model.PluginInfo, n string) int { return strings.Compare(p.Name, n) })
		if !ok {
			out = slices.Insert(out, i, model.PluginInfo{Name: name, Versions: []model.PluginVersion{}, Reports: []model.PluginReport{}})
		}
		return &out[i]
	}
	err := eng.View(func(tx *bbolt.Tx) error {
		cur := tx.Bucket(bPlugin).Cursor()
		for k, v := cur.First(); k != nil; k, v = cur.Next() {
			key := string(k)
			switch {
			case strings.HasPrefix(key, pluginVersionPrefix):
				var p model.PluginVersion
				if err := decodeRecord(v, &p); err != nil {
					return err
				}
				info := at(p.Name)
				info.Versions = append(info.Versions, p)
			case strings.HasPrefix(key, pluginActivePrefix):
				var a model.PluginActive
				if err := decodeRecord(v, &a); err != nil {
					return err
				}
				at(a.Name).Active = &a
			case strings.HasPrefix(key, pluginReportPrefix):
				var r model.PluginReport
				if err := decodeRecord(v, &r); err != nil {
					return err
				}
				info := at(r.Name)
				info.Reports = append(info.Reports, r)
			}
		}
		return nil
	})
	for i := range out {
		slices.SortFunc(out[i].Versions, func(a, b model.PluginVersion) int { return model.CompareVersions(a.Version, b.Version) })
	}
	return out, err
}
