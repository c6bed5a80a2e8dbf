package host

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// BeforeReport runs the report hooks of every running plugin that serves
// the report's place, in name order: all validators, then the enrichers,
// then the routers, so a router sees the enriched report. It implements
// core.Hooks, on the proposer side: what the plugins add is written into the
// report and so into the command, and no replica ever calls a plugin to
// apply it. Only the hooks a plugin registered are called.
//
// A plugin that cannot answer (down, hung, garbage) is handled by the
// hook's failure policy: fail-closed refuses the report with an error
// naming the plugin; fail-open goes on and lists the hook under
// model.ExtSkipped, which the event's timeline shows.
func (m *Manager) BeforeReport(ctx context.Context, r *model.Report) error {
	place := model.PlaceOf(r.Jurisdiction, r.Grid)
	var serving []*running
	for _, run := range m.runningNow() {
		if run.version.Covers(place) {
			serving = append(serving, run)
		}
	}
	if len(serving) == 0 {
		return nil
	}
	jur := r.Jurisdiction
	if jur == "" && len(r.Grid) > 12 {
		jur = r.Grid[:12] // a grid's code is its village's and a serial (model.CheckGrid)
	}
	var skipped []model.Skipped
	failed := func(run *running, hook string, err error) error { return m.failed(run, hook, err, &skipped) }
	// With no enricher, nothing a router sees can change after validation,
	// so the routers ask at the same time as the validators: a report pays
	// one round trip to the plugins, not two.
	enriches := slices.ContainsFunc(serving, func(run *running) bool { return run.version.Serves(model.HookEnrichEvent) })
	routes := slices.ContainsFunc(serving, func(run *running) bool { return run.version.Serves(model.HookRouteEvent) })
	var routed func() ([]model.Skipped, error)
	if routes && !enriches {
		route := *r
		route.Ext = maps.Clone(r.Ext) // the router writes its own copy
		done := make(chan struct{})
		var rskipped []model.Skipped
		var rerr error
		go func() {
			defer close(done)
			rskipped, rerr = m.route(ctx, serving, &route)
		}()
		routed = func() ([]model.Skipped, error) {
			<-done
			if raw, ok := route.Ext[model.ExtRoute]; ok && rerr == nil {
				if r.Ext == nil {
					r.Ext = map[string]json.RawMessage{}
				}
				r.Ext[model.ExtRoute] = raw
			}
			return rskipped, rerr
		}
	}
	validated := func() error {
		for _, run := range serving {
			if !run.version.Serves(model.HookValidateEvent) {
				continue
			}
			problems, err := callOn(ctx, run, func(p *Plugin) ([]Problem, error) { return p.ValidateEvent(ctx, r, jur) })
			if err != nil {
				if err := failed(run, model.HookValidateEvent, err); err != nil {
					return err
				}
				continue
			}
			if len(problems) > 0 {
				p := problems[0]
				field, rule := p.Field, p.Rule
				if field == "" {
					field = "report"
				}
				if rule == "" {
					rule = "plugin"
				}
				return errs.Invalid(field, rule, "plugin %s: %s", run.version.Name, p.Message)
			}
		}
		return nil
	}()
	if validated != nil {
		if routed != nil {
			routed() // wait for it: the call must not outlive the report
		}
		return validated
	}
	for _, run := range serving {
		if !run.version.Serves(model.HookEnrichEvent) {
			continue
		}
		en, err := callOn(ctx, run, func(p *Plugin) (*Enrichment, error) { return p.EnrichEvent(ctx, r, jur) })
		if err == nil {
			err = merge(r, run.version.Name, en)
		}
		if err != nil {
			if err := failed(run, model.HookEnrichEvent, err); err != nil {
				return err
			}
		}
	}
	var rskipped []model.Skipped
	var rerr error
	if routed != nil {
		rskipped, rerr = routed()
	} else {
		rskipped, rerr = m.route(ctx, serving, r)
	}
	if rerr != nil {
		return rerr
	}
	skipped = append(skipped, rskipped...)
	if len(skipped) > 0 {
		if err := setExt(r, model.ExtSkipped, skipped); err != nil {
			m.log.Warn("plugin failures not noted on the event", "err", err) // fail-open still goes on
		}
	}
	return nil
}

// route asks the routers in name order until one routes the report; a
// router that fails open is returned as skipped.
func (m *Manager) route(ctx context.Context, serving []*running, r *model.Report) ([]model.Skipped, error) {
	var skipped []model.Skipped
	for _, run := range serving {
		if !run.version.Serves(model.HookRouteEvent) {
			continue
		}
		if _, done := r.Ext[model.ExtRoute]; done {
			break // the first plugin by name that routes decides
		}
		rt, err := callOn(ctx, run, func(p *Plugin) (*model.Routing, error) { return p.RouteEvent(ctx, eventOf(r)) })
		if err == nil && (rt.Handler != "" || rt.Department != "" || rt.Deadline != nil) {
			err = setExt(r, model.ExtRoute, rt)
		}
		if err != nil {
			if err := m.failed(run, model.HookRouteEvent, err, &skipped); err != nil {
				return nil, err
			}
		}
	}
	return skipped, nil
}

// failed applies a hook's failure policy to err: fail-closed answers the
// error naming the plugin; fail-open logs it, notes the hook in skipped
// and answers nil.
func (m *Manager) failed(run *running, hook string, err error, skipped *[]model.Skipped) error {
	if run.version.PolicyOf(hook) == model.FailClosed {
		return fmt.Errorf("%w (the %s hook of plugin %s fails closed)", err, hook, run.version.Name)
	}
	m.log.Warn("plugin hook failed open", "plugin", run.version.Name, "hook", hook, "err", err)
	*skipped = append(*skipped, model.Skipped{Plugin: run.version.Name, Hook: hook, Error: truncate(err.Error(), 300)})
	return nil
}

// callOn calls the running plugin, or fails at once when it is down.
func callOn[T any](ctx context.Context, run *running, fn func(*Plugin) (T, error)) (T, error) {
	p, err := run.get()
	if err != nil {
		var zero T
		return zero, err
	}
	return fn(p)
}

// merge writes an enrichment into the report, refusing (as the plugin's
// failure) one that would break the report's bounds.
func merge(r *model.Report, plugin string, en *Enrichment) error {
	ext := maps.Clone(r.Ext)
	if ext == nil {
		ext = map[string]json.RawMessage{}
	}
	for k, v := range en.Ext {
		ext[model.PluginExtKey(plugin, k)] = v
	}
	if err := model.CheckExt(ext); err != nil {
		return fmt.Errorf("plugin %s: EnrichEvent: %v: %w", plugin, err, ErrBadResponse)
	}
	if en.Urgency != "" {
		r.Urgency = en.Urgency
	}
	if en.Category != "" {
		r.Category = en.Category
	}
	r.Ext = ext
	return nil
}

func setExt(r *model.Report, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if r.Ext == nil {
		r.Ext = map[string]json.RawMessage{}
	}
	if _, ok := r.Ext[key]; !ok && len(r.Ext) >= model.MaxExt {
		return errs.Invalid("ext", "length", "no room for %s: at most %d extension fields", key, model.MaxExt)
	}
	r.Ext[key] = raw
	return nil
}

// eventOf is the event a report is about to become, as a router sees it.
func eventOf(r *model.Report) *model.Event {
	return &model.Event{Status: model.StatusReported, Source: r.Source, Category: r.Category, Urgency: r.Urgency,
		Location: r.Location, Grid: r.Grid, Jurisdiction: r.Jurisdiction, Description: r.Description, Ext: r.Ext}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // not inside a UTF-8 sequence
		n--
	}
	return s[:n] + "…"
}
