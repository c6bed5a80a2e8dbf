package host

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	pluginv1 "github.com/fengqiao/fengqiao/plugins/proto/fengqiao/plugin/v1"
)

// hostService is what the node serves one plugin over go-plugin's broker:
// its own records, and the events in its jurisdictions without the
// reporter's identity (minimum necessary: a plugin holds no role that may
// see who reported). Anything outside answers as missing.
type hostService struct {
	pluginv1.UnimplementedHostServiceServer
	store   *core.Store
	version model.PluginVersion
}

// maxHostPage bounds one list a plugin reads.
const maxHostPage = 500

func (h *hostService) serves(jur string) bool { return jur != "" && h.version.Covers(jur) }

func (h *hostService) GetRecord(_ context.Context, req *pluginv1.GetRecordRequest) (*pluginv1.GetRecordResponse, error) {
	if !h.serves(req.GetJurisdiction()) {
		return &pluginv1.GetRecordResponse{}, nil
	}
	r, err := h.store.Plugins.Record(h.version.Name, req.GetJurisdiction(), req.GetCollection(), req.GetKey())
	if errors.Is(err, errs.ErrNotFound) {
		return &pluginv1.GetRecordResponse{}, nil
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &pluginv1.GetRecordResponse{Found: true, Value: r.Value}, nil
}

func limitOf(n int32) int {
	if n <= 0 || n > maxHostPage {
		return maxHostPage
	}
	return int(n)
}

func (h *hostService) ListRecords(_ context.Context, req *pluginv1.ListRecordsRequest) (*pluginv1.ListRecordsResponse, error) {
	out := &pluginv1.ListRecordsResponse{}
	if !h.serves(req.GetJurisdiction()) {
		return out, nil
	}
	limit := limitOf(req.GetLimit())
	rs, err := h.store.Plugins.Records(h.version.Name, req.GetJurisdiction(), req.GetCollection(), req.GetAfter(), limit)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	for _, r := range rs {
		out.Records = append(out.Records, &pluginv1.Record{Key: r.Key, Value: r.Value, UpdatedAt: r.UpdatedAt.Format(time.RFC3339Nano)})
	}
	if len(rs) == limit {
		out.Next = rs[len(rs)-1].Key
	}
	return out, nil
}

// forPlugin is an event as a plugin may see it.
func forPlugin(ev *model.Event) ([]byte, error) {
	e := *ev
	e.Reporter, e.ReportedBy = "", ""
	return json.Marshal(&e)
}

func (h *hostService) GetEvent(_ context.Context, req *pluginv1.GetEventRequest) (*pluginv1.GetEventResponse, error) {
	ev, err := h.store.Events.Get(req.GetId())
	if errors.Is(err, errs.ErrNotFound) || err == nil && !h.version.Covers(ev.Place()) {
		return &pluginv1.GetEventResponse{}, nil
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	raw, err := forPlugin(ev)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &pluginv1.GetEventResponse{Found: true, Event: raw}, nil
}

func (h *hostService) ListEvents(_ context.Context, req *pluginv1.ListEventsRequest) (*pluginv1.ListEventsResponse, error) {
	out := &pluginv1.ListEventsResponse{}
	if !h.serves(req.GetJurisdiction()) {
		return out, nil
	}
	page, err := h.store.Events.List(model.Query{Jurisdiction: req.GetJurisdiction(), Status: model.Status(req.GetStatus()),
		Category: req.GetCategory(), After: req.GetAfter(), Limit: limitOf(req.GetLimit())})
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	for _, ev := range page.Events {
		raw, err := forPlugin(ev)
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		out.Events = append(out.Events, raw)
	}
	out.Next = page.Next
	return out, nil
}

func (h *hostService) ListGrids(_ context.Context, req *pluginv1.ListGridsRequest) (*pluginv1.ListGridsResponse, error) {
	out := &pluginv1.ListGridsResponse{}
	if !h.serves(req.GetJurisdiction()) {
		return out, nil
	}
	gs, next, err := h.store.Grids.List(req.GetJurisdiction(), req.GetAfter(), limitOf(req.GetLimit()))
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	for _, g := range gs {
		if g.Status != model.GridActive {
			continue
		}
		pg := &pluginv1.Grid{Code: g.Code, Name: g.Name, Jurisdiction: g.Jurisdiction}
		for _, w := range g.Workers {
			pg.Workers = append(pg.Workers, w.Worker)
		}
		out.Grids = append(out.Grids, pg)
	}
	out.Next = next
	return out, nil
}
