package core

import (
	"context"
	"slices"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// Plugins is the typed API of the plugin catalog (DESIGN.md, Plugins). It
// records which plugin versions exist, what each node found in its plugin
// directory, and which version runs. Running plugins is the host's work
// (plugins/host); core only keeps the catalog they run from.
type Plugins struct{ s *Store }

// Register adds a version of a plugin. A version never changes: registering
// one that exists is a conflict, so an upgrade is always a new version.
func (p *Plugins) Register(ctx context.Context, v model.PluginVersion) (*model.PluginVersion, error) {
	v.Jurisdictions = slices.Sorted(slices.Values(v.Jurisdictions))
	if err := v.Check(); err != nil {
		return nil, err
	}
	return applyAs[*model.PluginVersion](ctx, p.s, "plugin.register", "", &v)
}

// Report records what a node found for a registered version in its plugin
// directory. Each node reports for itself; enabling a version waits for
// every voter's report.
func (p *Plugins) Report(ctx context.Context, r model.PluginReport) error {
	if err := r.Check(); err != nil {
		return err
	}
	_, err := p.s.apply(ctx, "plugin.report", "", &r)
	return err
}

// Enable switches the plugin to version, in one replicated command, provided
// every voter has reported the version's binary as registered. voters are the
// group's voting members (an embedded store passes its one node).
func (p *Plugins) Enable(ctx context.Context, name, version string, voters []string) (*model.PluginActive, error) {
	if err := model.CheckPluginName(name); err != nil {
		return nil, err
	}
	if _, err := model.ParseVersion(version); err != nil {
		return nil, err
	}
	if len(voters) == 0 {
		return nil, errs.Invalid("voters", "required", "plugin %s: enabling needs the group's voters", name)
	}
	for _, v := range voters {
		if err := model.CheckID("voters", v); err != nil {
			return nil, err
		}
	}
	return applyAs[*model.PluginActive](ctx, p.s, "plugin.enable", "", &model.PluginEnable{Name: name, Version: version, Voters: voters})
}

// Disable stops the plugin: no version of it runs until one is enabled.
func (p *Plugins) Disable(ctx context.Context, name string) error {
	if err := model.CheckPluginName(name); err != nil {
		return err
	}
	_, err := p.s.apply(ctx, "plugin.enable", "", &model.PluginEnable{Name: name})
	return err
}

// List reads the catalog, by name.
func (p *Plugins) List() ([]model.PluginInfo, error) { return p.s.engine.Plugins() }

// Get reads one plugin's entry.
func (p *Plugins) Get(name string) (*model.PluginInfo, error) {
	all, err := p.List()
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].Name == name {
			return &all[i], nil
		}
	}
	return nil, errs.NotFound("name", "plugin %s not found", name)
}

// Version reads one registered version.
func (p *Plugins) Version(name, version string) (*model.PluginVersion, error) {
	info, err := p.Get(name)
	if err != nil {
		return nil, err
	}
	for i := range info.Versions {
		if info.Versions[i].Version == version {
			return &info.Versions[i], nil
		}
	}
	return nil, errs.NotFound("version", "plugin %s %s not found", name, version)
}

// Running is the version of a plugin that runs: NotFound for a plugin never
// registered, Forbidden for one not enabled.
func (p *Plugins) Running(name string) (*model.PluginVersion, error) {
	info, err := p.Get(name)
	if err != nil {
		return nil, err
	}
	if info.Active == nil {
		return nil, errs.Forbidden("plugin", "disabled", "plugin %s is not enabled", name)
	}
	return p.Version(name, info.Active.Version)
}
