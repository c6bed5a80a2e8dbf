package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// Registration is what an operator gives to register a plugin binary that
// sits in the node's plugin directory.
type Registration struct {
	File          string            `json:"file"`
	SHA256        string            `json:"sha256"` // what the build says the binary hashes to
	Jurisdictions []string          `json:"jurisdictions"`
	Config        json.RawMessage   `json:"config,omitempty"`
	Policy        map[string]string `json:"policy,omitempty"`
}

// Register starts the binary once, with its checksum checked, asks it to
// describe itself, and registers the name and version it gives with the
// hooks it serves. The plugin runs nowhere until a version is enabled.
func (m *Manager) Register(ctx context.Context, reg Registration) (*model.PluginVersion, error) {
	probe := model.PluginVersion{Name: "probe", Version: "0.0.0", File: reg.File, SHA256: reg.SHA256,
		Jurisdictions: reg.Jurisdictions, Config: reg.Config, Policy: reg.Policy}
	if err := probe.Check(); err != nil {
		return nil, err
	}
	d, err := Describe(ctx, Config{Name: "", Path: filepath.Join(m.o.Dir, reg.File), SHA256: reg.SHA256, Config: reg.Config,
		Logger: m.log, StartTimeout: m.o.StartTimeout, CallTimeout: m.o.CallTimeout})
	if err != nil {
		return nil, errs.Invalid("file", "plugin", "%v", err)
	}
	v := probe
	v.Name, v.Version, v.Hooks = d.Name, d.Version, d.Hooks
	out, err := m.o.Store.Plugins.Register(ctx, v)
	if err != nil {
		return nil, err
	}
	// The event categories it adds, under its name (a new version may
	// rename one; what was added stays, as events may use it).
	for _, c := range d.Categories {
		if _, err := m.o.Store.Events.AddCategory(ctx, c); err != nil {
			return out, fmt.Errorf("plugin %s: category %s: %w", d.Name, c.Code, err)
		}
	}
	return out, nil
}

// Describe starts a plugin binary, takes its checked description and stops it.
func Describe(ctx context.Context, cfg Config) (*Description, error) {
	p, err := Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer p.Kill()
	return p.Desc, nil
}

// EnableWhenReported enables a registered version once every voter has
// reported its binary: this node reports first (a Sync), and the others'
// reports are waited for until ctx ends. A voter that reported another
// binary, or none, is an error at once.
func (m *Manager) EnableWhenReported(ctx context.Context, name, version string, voters []string) (*model.PluginActive, error) {
	for {
		// This node's report first; a report the group could not take now
		// (a leader being elected) is made again on the next pass.
		serr := m.Sync(ctx)
		a, err := m.o.Store.Plugins.Enable(ctx, name, version, voters)
		var fe *errs.FieldError
		if err == nil || !errors.Is(err, errs.ErrUnavailable) && !errors.Is(err, errs.ErrOutcomeUnknown) && (!errors.As(err, &fe) || fe.Rule != "unchecked") {
			return a, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (waiting for every voter's report: %v; this node's: %v)", err, ctx.Err(), serr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
