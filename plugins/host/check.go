package host

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fengqiao/fengqiao/core/model"
	pluginv1 "github.com/fengqiao/fengqiao/plugins/proto/fengqiao/plugin/v1"
)

// The conformance kit behind `fengqiao plugin check PATH`: it starts a
// plugin binary as a node would, calls every hook it declares with valid
// input and with input it must refuse, and says what breaks the contract.
// It proposes nothing: the commands a plugin answers are only checked.

// Finding is one check and its outcome.
type Finding struct {
	OK     bool
	Hook   string
	What   string
	Detail string
}

// CheckReport is what Check found.
type CheckReport struct {
	SHA256      string
	Description *Description
	Findings    []Finding
}

// Failed counts the failed checks.
func (r *CheckReport) Failed() int {
	n := 0
	for _, f := range r.Findings {
		if !f.OK {
			n++
		}
	}
	return n
}

// Check runs the conformance checks on the binary at path.
func Check(ctx context.Context, path string, config []byte, log *slog.Logger) (*CheckReport, error) {
	sum, err := FileSHA256(path)
	if err != nil {
		return nil, err
	}
	rep := &CheckReport{SHA256: sum}
	add := func(ok bool, hook, what, detail string) {
		rep.Findings = append(rep.Findings, Finding{OK: ok, Hook: hook, What: what, Detail: detail})
	}
	// The host service of an empty node: every read finds nothing.
	p, err := Start(ctx, Config{Path: path, SHA256: sum, Config: config, Logger: log, Host: emptyHost{}})
	if err != nil {
		add(false, "start", "starts, completes the handshake and describes itself", err.Error())
		return rep, nil
	}
	defer p.Kill()
	rep.Description = p.Desc
	add(true, "describe", "starts, completes the handshake and describes itself validly",
		fmt.Sprintf("%s %s, hooks %v, %d jobs, %d routes", p.Desc.Name, p.Desc.Version, p.Desc.Hooks, len(p.Desc.Jobs), len(p.Desc.Routes)))
	alive := func(hook string) {
		time.Sleep(50 * time.Millisecond)
		if p.Exited() {
			add(false, hook, "survives bad input", "the process exited")
		}
	}
	serves := func(h string) bool { return strings.Contains(strings.Join(p.Desc.Hooks, ","), h) }
	report := &model.Report{Category: "dispute", Urgency: model.UrgencyNormal, Source: "grid_worker", Description: "邻里纠纷（一致性检查）", Jurisdiction: "500110001"}
	garbage := []byte(`{"category": 7`)
	timed := func(hook, what string, fn func() error) {
		t0 := time.Now()
		err := fn()
		detail := fmt.Sprintf("%s", time.Since(t0).Round(time.Microsecond))
		if err != nil {
			detail = err.Error()
		}
		add(err == nil, hook, what, detail)
	}
	// A refusal of bad input is an InvalidArgument answer, not a crash.
	refuses := func(hook string, fn func(ctx context.Context) error) {
		cctx, cancel := context.WithTimeout(ctx, p.cfg.CallTimeout)
		defer cancel()
		err := fn(cctx)
		add(status.Code(err) == codes.InvalidArgument, hook, "refuses malformed input with InvalidArgument", fmt.Sprint(status.Code(err)))
		alive(hook)
	}
	if serves(model.HookValidateEvent) {
		timed(model.HookValidateEvent, "answers a valid report within the deadline", func() error { _, err := p.ValidateEvent(ctx, report, "500110"); return err })
		refuses(model.HookValidateEvent, func(ctx context.Context) error {
			_, err := p.svc.ValidateEvent(ctx, &pluginv1.ValidateEventRequest{Report: garbage})
			return err
		})
	}
	if serves(model.HookEnrichEvent) {
		timed(model.HookEnrichEvent, "enriches a valid report within its own schema", func() error { _, err := p.EnrichEvent(ctx, report, "500110"); return err })
		refuses(model.HookEnrichEvent, func(ctx context.Context) error {
			_, err := p.svc.EnrichEvent(ctx, &pluginv1.EnrichEventRequest{Report: garbage})
			return err
		})
	}
	if serves(model.HookRouteEvent) {
		timed(model.HookRouteEvent, "routes a valid event within the deadline", func() error { _, err := p.RouteEvent(ctx, eventOf(report)); return err })
		refuses(model.HookRouteEvent, func(ctx context.Context) error {
			_, err := p.svc.RouteEvent(ctx, &pluginv1.RouteEventRequest{Event: garbage})
			return err
		})
	}
	if serves(model.HookOnTransition) {
		ch := model.Change{Seq: 1, Index: 1, Command: "event.report", At: time.Now().UTC(), Kind: model.ChangeEvent, ID: "500110001-20261207-000001",
			Place: "500110001", Action: "report", To: string(model.StatusReported)}
		timed(model.HookOnTransition, "answers a change with well-formed commands naming it", func() error {
			_, err := p.OnTransition(ctx, []model.Change{ch})
			return err
		})
		refuses(model.HookOnTransition, func(ctx context.Context) error {
			_, err := p.svc.OnTransition(ctx, &pluginv1.OnTransitionRequest{Changes: [][]byte{garbage}})
			return err
		})
	}
	for _, h := range model.PluginHooks {
		if serves(h) {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, p.cfg.CallTimeout)
		err := undeclared(cctx, p, h)
		cancel()
		add(status.Code(err) == codes.Unimplemented, h, "answers Unimplemented for a hook it does not declare", fmt.Sprint(status.Code(err)))
	}
	for _, j := range p.Desc.Jobs {
		next := j.Next(time.Now())
		timed("job:"+j.Name, fmt.Sprintf("runs for %s (cron %q) with well-formed commands", next.Format(time.RFC3339), j.Cron), func() error {
			_, err := p.RunJob(ctx, j.Name, next)
			return err
		})
	}
	for _, rt := range p.Desc.Routes {
		path := pathParam(rt.Path)
		timed("http", fmt.Sprintf("answers %s %s with a status and JSON", rt.Method, path), func() error {
			params, _ := matchPattern(rt.Path, path)
			body := []byte(nil)
			if rt.Method != "GET" && rt.Method != "DELETE" {
				body = []byte(`{}`)
			}
			_, err := call(ctx, p, "http", func(ctx context.Context) (*HTTPResponse, error) {
				out, err := p.svc.HandleHTTP(ctx, &pluginv1.HandleHTTPRequest{Method: rt.Method, Route: rt.Path, Params: params, Query: "jurisdiction=500110",
					Body: body, Jurisdiction: "500110", Caller: &pluginv1.Caller{TokenId: "check", Role: "center_admin", Scope: "500110"}})
				if err != nil {
					return nil, err
				}
				if out.GetStatus() < 200 || out.GetStatus() > 599 || !json.Valid(out.GetBody()) {
					return nil, fmt.Errorf("status %d, body %.80q", out.GetStatus(), out.GetBody())
				}
				return nil, nil
			})
			return err
		})
	}
	return rep, nil
}

// undeclared calls a hook the plugin did not declare.
func undeclared(ctx context.Context, p *Plugin, hook string) error {
	var err error
	switch hook {
	case model.HookValidateEvent:
		_, err = p.svc.ValidateEvent(ctx, &pluginv1.ValidateEventRequest{Report: []byte(`{}`)})
	case model.HookEnrichEvent:
		_, err = p.svc.EnrichEvent(ctx, &pluginv1.EnrichEventRequest{Report: []byte(`{}`)})
	case model.HookRouteEvent:
		_, err = p.svc.RouteEvent(ctx, &pluginv1.RouteEventRequest{Event: []byte(`{}`)})
	case model.HookOnTransition:
		_, err = p.svc.OnTransition(ctx, &pluginv1.OnTransitionRequest{})
	}
	return err
}

// pathParam fills a route pattern's wildcards with sample values.
func pathParam(pattern string) string {
	segs := splitPath(pattern)
	for i, s := range segs {
		if wildcard.MatchString(s) {
			segs[i] = "sample"
		}
	}
	return "/" + strings.Join(segs, "/")
}

// emptyHost is the HostService of a node that holds nothing.
type emptyHost struct {
	pluginv1.UnimplementedHostServiceServer
}

func (emptyHost) GetRecord(context.Context, *pluginv1.GetRecordRequest) (*pluginv1.GetRecordResponse, error) {
	return &pluginv1.GetRecordResponse{}, nil
}

func (emptyHost) ListRecords(context.Context, *pluginv1.ListRecordsRequest) (*pluginv1.ListRecordsResponse, error) {
	return &pluginv1.ListRecordsResponse{}, nil
}

func (emptyHost) GetEvent(context.Context, *pluginv1.GetEventRequest) (*pluginv1.GetEventResponse, error) {
	return &pluginv1.GetEventResponse{}, nil
}

func (emptyHost) ListEvents(context.Context, *pluginv1.ListEventsRequest) (*pluginv1.ListEventsResponse, error) {
	return &pluginv1.ListEventsResponse{}, nil
}
