package host

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
	pluginv1 "github.com/fengqiao/fengqiao/plugins/proto/fengqiao/plugin/v1"
)

// The hook calls. Each is bounded by the call deadline, its answer is
// checked (decode.go) before anything uses it, and its error names the
// plugin and the hook.

// call runs one hook call under the deadline and tells the observer.
func call[T any](ctx context.Context, p *Plugin, hook string, fn func(ctx context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.CallTimeout)
	defer cancel()
	t0 := time.Now()
	out, err := fn(ctx)
	if err != nil {
		err = fmt.Errorf("plugin %s: %s: %w", p.cfg.Name, hook, err)
	}
	if p.cfg.Observe != nil {
		p.cfg.Observe(hook, time.Since(t0), err)
	}
	return out, err
}

// ValidateEvent asks the plugin to check a report; problems refuse it.
func (p *Plugin) ValidateEvent(ctx context.Context, r *model.Report, jurisdiction string) ([]Problem, error) {
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return call(ctx, p, model.HookValidateEvent, func(ctx context.Context) ([]Problem, error) {
		out, err := p.batch.validate.do(ctx, &pluginv1.ValidateEventRequest{Report: raw, Jurisdiction: jurisdiction})
		if err != nil {
			return nil, err
		}
		return decodeProblems(p.cfg.Name, out)
	})
}

// EnrichEvent asks the plugin what to add to a report.
func (p *Plugin) EnrichEvent(ctx context.Context, r *model.Report, jurisdiction string) (*Enrichment, error) {
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return call(ctx, p, model.HookEnrichEvent, func(ctx context.Context) (*Enrichment, error) {
		out, err := p.batch.enrich.do(ctx, &pluginv1.EnrichEventRequest{Report: raw, Jurisdiction: jurisdiction})
		if err != nil {
			return nil, err
		}
		return decodeEnrichment(p.cfg.Name, p.Desc, out)
	})
}

// RouteEvent asks the plugin where an event goes (分流).
func (p *Plugin) RouteEvent(ctx context.Context, ev *model.Event) (*model.Routing, error) {
	raw, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	return call(ctx, p, model.HookRouteEvent, func(ctx context.Context) (*model.Routing, error) {
		out, err := p.batch.route.do(ctx, &pluginv1.RouteEventRequest{Event: raw})
		if err != nil {
			return nil, err
		}
		return decodeRouting(p.cfg.Name, out)
	})
}

// OnTransition hands the plugin changes in feed order; it answers with
// commands, each naming the change it answers.
func (p *Plugin) OnTransition(ctx context.Context, changes []model.Change) ([]model.PluginCommand, error) {
	req := &pluginv1.OnTransitionRequest{Changes: make([][]byte, len(changes))}
	seqs := make(map[uint64]bool, len(changes))
	for i := range changes {
		raw, err := json.Marshal(&changes[i])
		if err != nil {
			return nil, err
		}
		req.Changes[i] = raw
		seqs[changes[i].Seq] = true
	}
	return call(ctx, p, model.HookOnTransition, func(ctx context.Context) ([]model.PluginCommand, error) {
		out, err := p.svc.OnTransition(ctx, req)
		if err != nil {
			return nil, err
		}
		return decodeCommands(p.cfg.Name, "OnTransition", out.GetCommands(), seqs)
	})
}

// RunJob runs one of the plugin's jobs for the scheduled time at.
func (p *Plugin) RunJob(ctx context.Context, name string, at time.Time) ([]model.PluginCommand, error) {
	return call(ctx, p, "job:"+name, func(ctx context.Context) ([]model.PluginCommand, error) {
		out, err := p.svc.RunJob(ctx, &pluginv1.RunJobRequest{Name: name, At: at.UTC().Format(time.RFC3339)})
		if err != nil {
			return nil, err
		}
		return decodeCommands(p.cfg.Name, "RunJob", out.GetCommands(), nil)
	})
}
