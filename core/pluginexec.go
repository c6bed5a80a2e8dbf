package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// What a plugin asks for (model.PluginCommand, from OnTransition or a job)
// is proposed here under the plugin's name, limited to the jurisdictions
// its enabled version serves: apply refuses a record outside them, and an
// event outside them is refused as missing, as for any scoped caller.

type pluginCtx struct{}

// pluginOf is the plugin acting under ctx, if any.
func pluginOf(ctx context.Context) string {
	p, _ := ctx.Value(pluginCtx{}).(string)
	return p
}

// Execute proposes what plugin asked for, one command after another. key
// makes them idempotent: command i is keyed key/i (or by its own ID), so a
// redelivery (a new leader handing the same changes over again) changes
// nothing twice. The result holds one error per command (nil: applied, or
// applied before).
func (p *Plugins) Execute(ctx context.Context, plugin, key string, cmds []model.PluginCommand) ([]error, error) {
	ver, err := p.Running(plugin)
	if err != nil {
		return nil, err
	}
	ctx = context.WithValue(WithActor(ctx, "plugin:"+plugin), pluginCtx{}, plugin)
	out := make([]error, len(cmds))
	for i, c := range cmds {
		k := fmt.Sprintf("plugin:%s/%s/%d", plugin, key, i)
		if c.ID != "" {
			k = "plugin:" + plugin + "/id/" + c.ID
		}
		kctx, err := WithIdempotencyKey(ctx, k)
		if err == nil {
			err = p.execute(kctx, ver, c)
		}
		var dup *state.DuplicateError
		if errors.As(err, &dup) {
			err = nil // applied at the first delivery
		}
		if err != nil {
			err = fmt.Errorf("plugin %s: command %d (%s): %w", plugin, i, c.Op, err)
		}
		out[i] = err
	}
	return out, nil
}

// covering is the jurisdiction of v that holds place, or "".
func covering(v *model.PluginVersion, place string) string {
	for _, j := range v.Jurisdictions {
		if model.Under(place, j) {
			return j
		}
	}
	return ""
}

func (p *Plugins) execute(ctx context.Context, v *model.PluginVersion, c model.PluginCommand) error {
	switch c.Op {
	case model.OpPut, model.OpDelete:
		r := model.PluginRecord{Plugin: v.Name, Jurisdiction: c.Jurisdiction, Collection: c.Collection, Key: c.Key, Value: c.Value}
		if c.Op == model.OpPut && len(r.Value) == 0 {
			return errs.Invalid("value", "required", "plugin %s: put needs a value", v.Name)
		}
		if err := r.Check(); err != nil {
			return err
		}
		scope := covering(v, r.Jurisdiction)
		if scope == "" {
			return errs.Forbidden("jurisdiction", "scope", "plugin %s does not serve jurisdiction %s", v.Name, r.Jurisdiction)
		}
		typ := "plugin.put"
		if c.Op == model.OpDelete {
			typ, r.Value = "plugin.delete", nil
		}
		// The plugin's own records are scoped by the jurisdictions it
		// serves, as its reports are: a grid worker filing a checklist
		// through a plugin route may not write the county's record
		// itself, but the plugin keeps it there.
		_, err := p.s.apply(WithScope(ctx, scope), typ, r.Jurisdiction, &r)
		return err
	case model.OpReport:
		if c.Report == nil {
			return errs.Invalid("report", "required", "plugin %s: report needs a report", v.Name)
		}
		r := *c.Report
		r.Source = "plugin"
		place := model.PlaceOf(r.Jurisdiction, r.Grid)
		scope := covering(v, place)
		if scope == "" {
			return errs.Forbidden("jurisdiction", "scope", "plugin %s does not serve %s", v.Name, place)
		}
		_, err := p.s.Events.Report(WithScope(ctx, scope), r)
		return err
	case model.OpAct:
		if c.Action == nil || !slices.Contains(model.PluginActions, c.Action.Action) {
			return errs.Invalid("action", "enum", "plugin %s: a plugin may take the actions %v", v.Name, model.PluginActions)
		}
		ev, err := p.s.Events.Get(c.Event)
		if err != nil {
			return err
		}
		scope := covering(v, ev.Place())
		if scope == "" {
			return errs.NotFound("event", "event %s not found", c.Event) // out of scope answers as missing
		}
		_, err = p.s.Events.Act(WithScope(ctx, scope), c.Event, *c.Action)
		return err
	}
	return errs.Invalid("op", "enum", "plugin %s: unknown op %q (put, delete, report, act)", v.Name, c.Op)
}

// Record reads one record of a plugin's own state.
func (p *Plugins) Record(plugin, jur, collection, key string) (*model.PluginRecord, error) {
	return p.s.engine.PluginRecord(plugin, jur, collection, key)
}

// Records lists a plugin's collection in one jurisdiction, by key.
func (p *Plugins) Records(plugin, jur, collection, after string, limit int) ([]model.PluginRecord, error) {
	if limit < 1 || limit > 1000 {
		return nil, errs.Invalid("limit", "range", "limit must be 1..1000")
	}
	return p.s.engine.PluginRecords(plugin, jur, collection, after, limit)
}

type formFieldsKey struct{}

// WithFormFields lets the caller under ctx write the plugin extension
// fields named (plugin:field): those a running plugin's report form asks a
// reporter to fill (Open311 attributes, the console's report form). The
// caller that names them has checked each value against the plugin's
// declared schema; every other plugin field stays the plugin's own.
func WithFormFields(ctx context.Context, keys []string) context.Context {
	return context.WithValue(ctx, formFieldsKey{}, slices.Clone(keys))
}

// pluginExtAllowed says whether the caller under ctx may write extension
// field k: callers write names without ':' and the form fields they were
// given, a plugin its own namespace.
func pluginExtAllowed(ctx context.Context, k string) bool {
	if !strings.Contains(k, ":") {
		return true
	}
	if keys, _ := ctx.Value(formFieldsKey{}).([]string); slices.Contains(keys, k) {
		return true
	}
	p := pluginOf(ctx)
	return p != "" && strings.HasPrefix(k, p+":") && !strings.Contains(k[len(p)+1:], ":")
}
