package core

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// enabledPlugin registers and enables qijiang-daily for 511083001 only.
func enabledPlugin(t *testing.T, e *env) {
	t.Helper()
	v := testPluginVersion("1.0.0", sumA)
	v.Jurisdictions = []string{"511083001"}
	if _, err := e.Plugins.Register(e.ctx, v); err != nil {
		t.Fatal(err)
	}
	if err := e.Plugins.Report(e.ctx, model.PluginReport{Name: v.Name, Version: v.Version, Node: "n1", Status: model.BinaryOK, SHA256: sumA}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Plugins.Enable(e.ctx, v.Name, v.Version, []string{"n1"}); err != nil {
		t.Fatal(err)
	}
}

// A plugin writes only its own records, only where it serves, and a
// redelivered batch changes nothing twice.
func TestPluginCommandsStayInTheirLane(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	const name = "qijiang-daily"
	put := model.PluginCommand{Op: model.OpPut, Collection: "checklist", Jurisdiction: "511083001001", Key: "2026-12-07", Value: json.RawMessage(`{"done":true}`)}
	if _, err := e.Plugins.Execute(e.ctx, name, "seq-1", []model.PluginCommand{put}); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("an unregistered plugin: %v", err)
	}
	enabledPlugin(t, e)
	grid := ""
	if gs, _, _ := e.Grids.List("511083001", "", 1); len(gs) > 0 {
		grid = gs[0].Code
	}
	outside := put
	outside.Jurisdiction = "511083002001"
	report := model.PluginCommand{Op: model.OpReport, Report: &model.Report{Category: "dispute", Description: "排查发现纠纷", Grid: grid,
		Ext: map[string]json.RawMessage{name + ":step": json.RawMessage(`"研判"`)}}}
	foreignExt := model.PluginCommand{Op: model.OpReport, Report: &model.Report{Category: "dispute", Description: "d", Grid: grid,
		Ext: map[string]json.RawMessage{"other:step": json.RawMessage(`1`)}}}
	farReport := model.PluginCommand{Op: model.OpReport, Report: &model.Report{Category: "dispute", Description: "d", Jurisdiction: "511083002"}}
	badAct := model.PluginCommand{Op: model.OpAct, Event: "x", Action: &model.Action{Action: "close"}}
	cmds := []model.PluginCommand{put, outside, report, foreignExt, farReport, badAct, {Op: "drop"}}
	// What a plugin may not do is refused, naming it, and changes nothing.
	before := mustDigest(t, e.Engine())
	refused, err := e.Plugins.Execute(e.ctx, name, "seq-0", cmds[1:2])
	if err != nil || !errors.Is(refused[0], errs.ErrForbidden) || !strings.Contains(refused[0].Error(), "plugin "+name) {
		t.Fatalf("a record outside its jurisdictions: %v %v", refused, err)
	}
	if refused, _ = e.Plugins.Execute(e.ctx, name, "seq-0b", cmds[3:]); mustDigest(t, e.Engine()) != before {
		t.Fatalf("refused commands changed the state: %v", refused)
	}
	res, err := e.Plugins.Execute(e.ctx, name, "seq-1", cmds)
	if err != nil {
		t.Fatal(err)
	}
	want := []error{nil, errs.ErrForbidden, nil, errs.ErrInvalid, errs.ErrForbidden, errs.ErrInvalid, errs.ErrInvalid}
	for i, w := range want {
		if w == nil && res[i] != nil || w != nil && !errors.Is(res[i], w) {
			t.Errorf("command %d (%s): %v, want %v", i, cmds[i].Op, res[i], w)
		}
	}
	rec, err := e.Plugins.Record(name, "511083001001", "checklist", "2026-12-07")
	if err != nil || string(rec.Value) != `{"done":true}` || rec.UpdatedBy != "plugin:"+name {
		t.Fatalf("the record: %+v %v", rec, err)
	}
	page, _ := e.Events.List(model.Query{Jurisdiction: "511083", Limit: 10})
	if len(page.Events) != 1 || page.Events[0].Source != "plugin" {
		t.Fatalf("events after the plugin's report: %+v", page.Events)
	}
	// Redelivered: the same key changes nothing.
	before = mustDigest(t, e.Engine())
	if res, _ = e.Plugins.Execute(e.ctx, name, "seq-1", cmds[:3]); res[0] != nil || res[2] != nil {
		t.Fatalf("a redelivery: %v", res)
	}
	if mustDigest(t, e.Engine()) != before {
		t.Fatal("a redelivered batch changed the state")
	}
	// Disabled, it can write nothing.
	if err := e.Plugins.Disable(e.ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Plugins.Execute(e.ctx, name, "seq-2", cmds[:1]); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("a disabled plugin: %v", err)
	}
}
