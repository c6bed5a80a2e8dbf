package core

import (
	"context"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// Hooks is outside code that sees a report before it is proposed: the
// plugins of a region (plugins/host implements it). It runs on the proposer
// side only, never in apply, so what it adds becomes part of the command
// and every replica applies the same thing.
type Hooks interface {
	// BeforeReport checks and completes a report whose grid and jurisdiction
	// are resolved. It may refuse it (an error naming the plugin), replace
	// its urgency or category, and add extension fields in the plugins'
	// namespaces (model.PluginExtKey).
	BeforeReport(ctx context.Context, r *model.Report) error
}

// hooksBox lets an atomic pointer hold an interface.
type hooksBox struct{ h Hooks }

// SetHooks installs the hooks reports pass through; nil removes them. The
// host sets them once its plugins are running.
func (s *Store) SetHooks(h Hooks) {
	if h == nil {
		s.hooks.Store(nil)
		return
	}
	s.hooks.Store(&hooksBox{h})
}

// beforeReport runs the hooks on r, if any. A caller may not write in the
// plugins' namespaces; after the hooks the report is checked again, so a
// plugin cannot make it invalid.
func (s *Store) beforeReport(ctx context.Context, r *model.Report) error {
	for k := range r.Ext {
		if !pluginExtAllowed(ctx, k) {
			return errs.Invalid("ext", "reserved", "extension field %q: names with ':' are written by plugins, each in its own namespace", k)
		}
	}
	b := s.hooks.Load()
	if b == nil {
		return nil
	}
	if err := b.h.BeforeReport(ctx, r); err != nil {
		return err
	}
	return r.Check()
}
