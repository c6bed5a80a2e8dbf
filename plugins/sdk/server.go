package sdk

import (
	"context"
	"encoding/json"
	"net/url"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fengqiao/fengqiao/core/model"
	pluginv1 "github.com/fengqiao/fengqiao/plugins/proto/fengqiao/plugin/v1"
)

// GRPCPlugin is the go-plugin side of the protocol: a plugin serves Impl,
// and a host (Impl nil) gets a *Conn.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Plugin
}

// Conn is the host's side of a plugin: its service, and the broker on
// which the host serves HostService back to it.
type Conn struct {
	Plugin pluginv1.PluginServiceClient
	Broker *plugin.GRPCBroker
}

// GRPCServer registers the plugin's service.
func (g *GRPCPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	pluginv1.RegisterPluginServiceServer(s, &server{impl: g.Impl, broker: broker})
	return nil
}

// GRPCClient is the host's client of the plugin's service.
func (g *GRPCPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &Conn{Plugin: pluginv1.NewPluginServiceClient(c), Broker: broker}, nil
}

// server adapts a Plugin to the wire protocol.
type server struct {
	pluginv1.UnimplementedPluginServiceServer
	impl   Plugin
	broker *plugin.GRPCBroker
}

// Hooks lists the hooks p serves: those whose interfaces it implements.
func Hooks(p Plugin) []pluginv1.Hook {
	var hs []pluginv1.Hook
	if _, ok := p.(EventValidator); ok {
		hs = append(hs, pluginv1.Hook_HOOK_VALIDATE_EVENT)
	}
	if _, ok := p.(EventEnricher); ok {
		hs = append(hs, pluginv1.Hook_HOOK_ENRICH_EVENT)
	}
	if _, ok := p.(EventRouter); ok {
		hs = append(hs, pluginv1.Hook_HOOK_ROUTE_EVENT)
	}
	if _, ok := p.(TransitionHandler); ok {
		hs = append(hs, pluginv1.Hook_HOOK_ON_TRANSITION)
	}
	return hs
}

func (s *server) Describe(ctx context.Context, req *pluginv1.DescribeRequest) (*pluginv1.DescribeResponse, error) {
	if u, ok := s.impl.(HostUser); ok && req.HostService != 0 {
		conn, err := s.broker.Dial(req.HostService)
		if err != nil {
			return nil, status.Errorf(codes.Unavailable, "dial the host service: %v", err)
		}
		u.UseHost(hostClient{pluginv1.NewHostServiceClient(conn)})
	}
	if c, ok := s.impl.(Configurable); ok {
		if err := c.Configure(ctx, Setup{Config: req.Config, Jurisdictions: req.Jurisdictions}); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "configure: %v", err)
		}
	}
	d, err := s.impl.Describe(ctx)
	if err != nil {
		return nil, err
	}
	out := &pluginv1.DescribeResponse{Name: d.Name, Version: d.Version, Hooks: Hooks(s.impl), Fields: d.Fields}
	for _, c := range d.Categories {
		raw, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		out.Categories = append(out.Categories, raw)
	}
	for _, j := range d.Jobs {
		out.Jobs = append(out.Jobs, &pluginv1.Job{Name: j.Name, Cron: j.Cron})
	}
	for _, r := range d.Routes {
		out.Routes = append(out.Routes, &pluginv1.Route{Method: r.Method, Path: r.Path, Summary: r.Summary, Perm: r.Perm})
	}
	for _, f := range d.Forms {
		out.Forms = append(out.Forms, &pluginv1.Form{Name: f.Name, Title: f.Title, Place: f.Place, Fields: f.Fields})
	}
	return out, nil
}

// decodeArg reads a JSON argument, answering InvalidArgument when it is not
// the value the hook takes.
func decodeArg(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return status.Errorf(codes.InvalidArgument, "decode: %v", err)
	}
	return nil
}

func (s *server) ValidateEvent(ctx context.Context, req *pluginv1.ValidateEventRequest) (*pluginv1.ValidateEventResponse, error) {
	v, ok := s.impl.(EventValidator)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "ValidateEvent is not served")
	}
	var r model.Report
	if err := decodeArg(req.Report, &r); err != nil {
		return nil, err
	}
	ps, err := v.ValidateEvent(ctx, r, req.Jurisdiction)
	if err != nil {
		return nil, err
	}
	out := &pluginv1.ValidateEventResponse{}
	for _, p := range ps {
		out.Problems = append(out.Problems, &pluginv1.Problem{Field: p.Field, Rule: p.Rule, Message: p.Message})
	}
	return out, nil
}

func (s *server) EnrichEvent(ctx context.Context, req *pluginv1.EnrichEventRequest) (*pluginv1.EnrichEventResponse, error) {
	e, ok := s.impl.(EventEnricher)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "EnrichEvent is not served")
	}
	var r model.Report
	if err := decodeArg(req.Report, &r); err != nil {
		return nil, err
	}
	en, err := e.EnrichEvent(ctx, r, req.Jurisdiction)
	if err != nil {
		return nil, err
	}
	out := &pluginv1.EnrichEventResponse{Urgency: en.Urgency, Category: en.Category, Ext: map[string][]byte{}}
	for k, v := range en.Ext {
		out.Ext[k] = v
	}
	return out, nil
}

func (s *server) RouteEvent(ctx context.Context, req *pluginv1.RouteEventRequest) (*pluginv1.RouteEventResponse, error) {
	rt, ok := s.impl.(EventRouter)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "RouteEvent is not served")
	}
	var ev model.Event
	if err := decodeArg(req.Event, &ev); err != nil {
		return nil, err
	}
	r, err := rt.RouteEvent(ctx, ev)
	if err != nil {
		return nil, err
	}
	out := &pluginv1.RouteEventResponse{Handler: r.Handler, Department: r.Department}
	if !r.Deadline.IsZero() {
		out.Deadline = r.Deadline.UTC().Format(time.RFC3339)
	}
	return out, nil
}

func (s *server) OnTransition(ctx context.Context, req *pluginv1.OnTransitionRequest) (*pluginv1.OnTransitionResponse, error) {
	th, ok := s.impl.(TransitionHandler)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "OnTransition is not served")
	}
	out := &pluginv1.OnTransitionResponse{}
	for _, raw := range req.Changes {
		var ch model.Change
		if err := decodeArg(raw, &ch); err != nil {
			return nil, err
		}
		cmds, err := th.OnTransition(ctx, ch)
		if err != nil {
			return nil, err
		}
		for _, c := range cmds {
			c.Seq = ch.Seq
			if out.Commands, err = appendJSON(out.Commands, c); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (s *server) RunJob(ctx context.Context, req *pluginv1.RunJobRequest) (*pluginv1.RunJobResponse, error) {
	jr, ok := s.impl.(JobRunner)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "RunJob is not served")
	}
	at, err := time.Parse(time.RFC3339, req.At)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "at: %v", err)
	}
	cmds, err := jr.RunJob(ctx, req.Name, at)
	if err != nil {
		return nil, err
	}
	out := &pluginv1.RunJobResponse{}
	for _, c := range cmds {
		if out.Commands, err = appendJSON(out.Commands, c); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func appendJSON(to [][]byte, v any) ([][]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return to, status.Errorf(codes.Internal, "encode: %v", err)
	}
	return append(to, raw), nil
}

func (s *server) HandleHTTP(ctx context.Context, req *pluginv1.HandleHTTPRequest) (*pluginv1.HandleHTTPResponse, error) {
	h, ok := s.impl.(HTTPHandler)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "HandleHTTP is not served")
	}
	q, err := url.ParseQuery(req.Query)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "query: %v", err)
	}
	in := HTTPRequest{Method: req.Method, Route: req.Route, Params: req.Params, Query: q, Body: req.Body, Jurisdiction: req.Jurisdiction}
	if c := req.Caller; c != nil {
		in.Caller = Caller{TokenID: c.TokenId, Role: c.Role, Scope: c.Scope}
	}
	res, err := h.HandleHTTP(ctx, in)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(res.Body)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "encode: %v", err)
	}
	if res.Status == 0 {
		res.Status = 200
	}
	out := &pluginv1.HandleHTTPResponse{Status: int32(res.Status), Body: body}
	for _, c := range res.Commands {
		if out.Commands, err = appendJSON(out.Commands, c); err != nil {
			return nil, err
		}
	}
	return out, nil
}
