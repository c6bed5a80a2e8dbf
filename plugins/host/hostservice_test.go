package host

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/fengqiao/fengqiao/core/model"
	pluginv1 "github.com/fengqiao/fengqiao/plugins/proto/fengqiao/plugin/v1"
)

// A plugin reads its own records and the events of its jurisdictions; the
// rest answers exactly as missing, and no event carries its reporter.
func TestHostServiceKeepsAPluginInItsLane(t *testing.T) {
	n := newNode(t)
	sum := n.install(t, regionBin(t, ""), "region")
	v, err := n.m.Register(n.ctx, Registration{File: "region", SHA256: sum, Jurisdictions: []string{"511083001"}})
	if err != nil {
		t.Fatal(err)
	}
	n.sync(t)
	if _, err := n.store.Plugins.Enable(n.ctx, v.Name, v.Version, []string{"local"}); err != nil {
		t.Fatal(err)
	}
	in, err := n.store.Events.Report(n.ctx, model.Report{Category: "dispute", Description: "d", Jurisdiction: "511083001001", Reporter: "张三 13800000000"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := n.store.Events.Report(n.ctx, model.Report{Category: "dispute", Description: "d", Jurisdiction: "511083002001"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.store.Plugins.Execute(n.ctx, "region", "t", []model.PluginCommand{
		{Op: model.OpPut, Collection: "ledger", Jurisdiction: "511083001001", Key: "a", Value: json.RawMessage(`1`)},
		{Op: model.OpPut, Collection: "ledger", Jurisdiction: "511083001001", Key: "b", Value: json.RawMessage(`2`)},
	}); err != nil {
		t.Fatal(err)
	}
	h := &hostService{store: n.store, version: *v}
	h.version.Jurisdictions = []string{"511083001"}
	ctx := context.Background()
	got, _ := h.GetEvent(ctx, &pluginv1.GetEventRequest{Id: in.ID})
	var ev model.Event
	if !got.Found || json.Unmarshal(got.Event, &ev) != nil || ev.Reporter != "" || ev.ReportedBy != "" || ev.ID != in.ID {
		t.Fatalf("an event in scope: %+v (%s)", got, got.Event)
	}
	for _, id := range []string{out.ID, "no-such-event"} {
		if got, err := h.GetEvent(ctx, &pluginv1.GetEventRequest{Id: id}); err != nil || got.Found || len(got.Event) != 0 {
			t.Fatalf("event %s: %+v %v, want the answer for a missing one", id, got, err)
		}
	}
	if r, _ := h.GetRecord(ctx, &pluginv1.GetRecordRequest{Jurisdiction: "511083001001", Collection: "ledger", Key: "b"}); !r.Found || string(r.Value) != "2" {
		t.Fatalf("own record: %+v", r)
	}
	if r, _ := h.GetRecord(ctx, &pluginv1.GetRecordRequest{Jurisdiction: "511083002001", Collection: "ledger", Key: "b"}); r.Found {
		t.Fatal("a record outside the plugin's jurisdictions was served")
	}
	list, _ := h.ListRecords(ctx, &pluginv1.ListRecordsRequest{Jurisdiction: "511083001001", Collection: "ledger", Limit: 1})
	if len(list.Records) != 1 || list.Next != "a" {
		t.Fatalf("the first page: %+v", list)
	}
	if list, _ = h.ListRecords(ctx, &pluginv1.ListRecordsRequest{Jurisdiction: "511083001001", Collection: "ledger", After: "a"}); len(list.Records) != 1 || list.Records[0].Key != "b" || list.Next != "" {
		t.Fatalf("the second page: %+v", list)
	}
	evs, _ := h.ListEvents(ctx, &pluginv1.ListEventsRequest{Jurisdiction: "511083"})
	if len(evs.Events) != 0 {
		t.Fatal("events listed above the plugin's jurisdiction")
	}
	if evs, _ = h.ListEvents(ctx, &pluginv1.ListEventsRequest{Jurisdiction: "511083001"}); len(evs.Events) != 1 {
		t.Fatalf("events in scope: %d", len(evs.Events))
	}
	// Another plugin's records are not this one's.
	other := &hostService{store: n.store, version: model.PluginVersion{Name: "points", Jurisdictions: []string{"511083001"}}}
	if r, _ := other.GetRecord(ctx, &pluginv1.GetRecordRequest{Jurisdiction: "511083001001", Collection: "ledger", Key: "b"}); r.Found {
		t.Fatal("one plugin read another's record")
	}
}
