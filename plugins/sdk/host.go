package sdk

import (
	"context"
	"encoding/json"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
	pluginv1 "github.com/fengqiao/fengqiao/plugins/proto/fengqiao/plugin/v1"
)

// Host is what a plugin may read from the node: its own records, and the
// events in the jurisdictions it serves (without who reported them).
// Anything outside them reads as missing. A plugin writes only through the
// commands it returns.
type Host interface {
	// Record reads one of the plugin's records; found is false when none.
	Record(ctx context.Context, jurisdiction, collection, key string) (value json.RawMessage, found bool, err error)
	// Records lists a collection in one jurisdiction by key, after the key
	// after; next is "" on the last page.
	Records(ctx context.Context, jurisdiction, collection, after string, limit int) (records []Record, next string, err error)
	// Event reads an event; found is false when none (or out of scope).
	Event(ctx context.Context, id string) (ev *model.Event, found bool, err error)
	// Events lists the events in one jurisdiction, newest first.
	Events(ctx context.Context, q model.Query) (events []model.Event, next string, err error)
	// Grids lists the active grids under one jurisdiction, by code.
	Grids(ctx context.Context, jurisdiction, after string, limit int) (grids []Grid, next string, err error)
}

// Grid is a grid as a plugin sees it.
type Grid struct {
	Code, Name   string
	Jurisdiction string   // its village or community
	Workers      []string // its grid workers' ids
}

// Record is one of a plugin's records.
type Record struct {
	Key       string
	Value     json.RawMessage
	UpdatedAt time.Time
}

// HostUser is a plugin that reads from the node. UseHost is called once as
// the plugin starts, before Describe.
type HostUser interface {
	UseHost(h Host)
}

// hostClient is Host over the broker's connection.
type hostClient struct{ c pluginv1.HostServiceClient }

func (h hostClient) Record(ctx context.Context, jur, collection, key string) (json.RawMessage, bool, error) {
	out, err := h.c.GetRecord(ctx, &pluginv1.GetRecordRequest{Jurisdiction: jur, Collection: collection, Key: key})
	if err != nil {
		return nil, false, err
	}
	return out.Value, out.Found, nil
}

func (h hostClient) Records(ctx context.Context, jur, collection, after string, limit int) ([]Record, string, error) {
	out, err := h.c.ListRecords(ctx, &pluginv1.ListRecordsRequest{Jurisdiction: jur, Collection: collection, After: after, Limit: int32(limit)})
	if err != nil {
		return nil, "", err
	}
	rs := make([]Record, len(out.Records))
	for i, r := range out.Records {
		at, _ := time.Parse(time.RFC3339Nano, r.UpdatedAt)
		rs[i] = Record{Key: r.Key, Value: r.Value, UpdatedAt: at}
	}
	return rs, out.Next, nil
}

func (h hostClient) Event(ctx context.Context, id string) (*model.Event, bool, error) {
	out, err := h.c.GetEvent(ctx, &pluginv1.GetEventRequest{Id: id})
	if err != nil || !out.Found {
		return nil, false, err
	}
	var ev model.Event
	if err := json.Unmarshal(out.Event, &ev); err != nil {
		return nil, false, err
	}
	return &ev, true, nil
}

func (h hostClient) Events(ctx context.Context, q model.Query) ([]model.Event, string, error) {
	out, err := h.c.ListEvents(ctx, &pluginv1.ListEventsRequest{Jurisdiction: q.Jurisdiction, Status: string(q.Status), Category: q.Category, After: q.After, Limit: int32(q.Limit)})
	if err != nil {
		return nil, "", err
	}
	evs := make([]model.Event, len(out.Events))
	for i, raw := range out.Events {
		if err := json.Unmarshal(raw, &evs[i]); err != nil {
			return nil, "", err
		}
	}
	return evs, out.Next, nil
}

func (h hostClient) Grids(ctx context.Context, jur, after string, limit int) ([]Grid, string, error) {
	out, err := h.c.ListGrids(ctx, &pluginv1.ListGridsRequest{Jurisdiction: jur, After: after, Limit: int32(limit)})
	if err != nil {
		return nil, "", err
	}
	gs := make([]Grid, len(out.Grids))
	for i, g := range out.Grids {
		gs[i] = Grid{Code: g.Code, Name: g.Name, Jurisdiction: g.Jurisdiction, Workers: g.Workers}
	}
	return gs, out.Next, nil
}
