package core

import (
	"errors"
	"strings"
	"testing"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

func testPluginVersion(version, sum string) model.PluginVersion {
	return model.PluginVersion{Name: "qijiang-daily", Version: version, File: "qijiang-daily", SHA256: sum,
		Hooks: []string{model.HookValidateEvent, model.HookOnTransition}, Jurisdictions: []string{"511083"},
		Policy: map[string]string{model.HookValidateEvent: model.FailClosed}}
}

var (
	sumA = strings.Repeat("a", 64)
	sumB = strings.Repeat("b", 64)
)

// A version is enabled only when every voter reports the registered
// binary; an upgrade is a new version switched in one command.
func TestPluginCatalogEnablesOnlyOnTheSameBinaryEverywhere(t *testing.T) {
	e := newEnv(t, false)
	voters := []string{"n1", "n2", "n3"}
	if _, err := e.Plugins.Register(e.ctx, testPluginVersion("1.0.0", sumA)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Plugins.Register(e.ctx, testPluginVersion("1.0.0", sumB)); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("re-registering a version: %v, want a conflict", err)
	}
	report := func(node, version, status, sum string) {
		t.Helper()
		if err := e.Plugins.Report(e.ctx, model.PluginReport{Name: "qijiang-daily", Version: version, Node: node, Status: status, SHA256: sum, Reason: status}); err != nil {
			t.Fatal(err)
		}
	}
	report("n1", "1.0.0", model.BinaryOK, sumA)
	report("n2", "1.0.0", model.BinaryOK, sumA)
	if _, err := e.Plugins.Enable(e.ctx, "qijiang-daily", "1.0.0", voters); !errors.Is(err, errs.ErrConflict) || !strings.Contains(err.Error(), "n3") {
		t.Fatalf("enable before n3 reported: %v, want a conflict naming n3", err)
	}
	report("n3", "1.0.0", model.BinaryMismatch, sumB)
	if _, err := e.Plugins.Enable(e.ctx, "qijiang-daily", "1.0.0", voters); !errors.Is(err, errs.ErrConflict) || !strings.Contains(err.Error(), "mismatch") {
		t.Fatalf("enable with a wrong binary on n3: %v", err)
	}
	info, _ := e.Plugins.Get("qijiang-daily")
	if info.Active != nil {
		t.Fatalf("refused enables changed the catalog: %+v", info.Active)
	}
	report("n3", "1.0.0", model.BinaryOK, sumA)
	a, err := e.Plugins.Enable(e.ctx, "qijiang-daily", "1.0.0", voters)
	if err != nil || a.Version != "1.0.0" || a.SHA256 != sumA {
		t.Fatalf("enable: %+v %v", a, err)
	}

	// Upgrade: 1.1.0 is registered and checked while 1.0.0 runs.
	if _, err := e.Plugins.Register(e.ctx, testPluginVersion("1.1.0", sumB)); err != nil {
		t.Fatal(err)
	}
	for _, n := range voters {
		report(n, "1.1.0", model.BinaryOK, sumB)
	}
	if info, _ = e.Plugins.Get("qijiang-daily"); info.Active.Version != "1.0.0" || len(info.Versions) != 2 || len(info.Reports) != 6 {
		t.Fatalf("registering 1.1.0 changed what runs: %+v", info)
	}
	if a, err = e.Plugins.Enable(e.ctx, "qijiang-daily", "1.1.0", voters); err != nil || a.SHA256 != sumB {
		t.Fatalf("switch to 1.1.0: %+v %v", a, err)
	}
	if err := e.Plugins.Disable(e.ctx, "qijiang-daily"); err != nil {
		t.Fatal(err)
	}
	if info, _ = e.Plugins.Get("qijiang-daily"); info.Active != nil {
		t.Fatalf("disabled plugin still active: %+v", info.Active)
	}
	if err := e.Plugins.Disable(e.ctx, "qijiang-daily"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("disable twice: %v", err)
	}
}

// Bad registrations are refused naming the field, and change nothing.
func TestPluginRegistrationRulesChangeNothing(t *testing.T) {
	e := newEnv(t, false)
	before := mustDigest(t, e.Engine())
	bad := map[string]func(v *model.PluginVersion){
		"name":          func(v *model.PluginVersion) { v.Name = "Qijiang" },
		"version":       func(v *model.PluginVersion) { v.Version = "1.0" },
		"file":          func(v *model.PluginVersion) { v.File = "../bin/sh" },
		"sha256":        func(v *model.PluginVersion) { v.SHA256 = "ABC" },
		"hooks":         func(v *model.PluginVersion) { v.Hooks = []string{"on_apply"} },
		"jurisdictions": func(v *model.PluginVersion) { v.Jurisdictions = nil },
		"config":        func(v *model.PluginVersion) { v.Config = []byte(`[1]`) },
		"policy.on_transition": func(v *model.PluginVersion) {
			v.Policy = map[string]string{model.HookOnTransition: "maybe"}
		},
	}
	for field, spoil := range bad {
		v := testPluginVersion("1.0.0", sumA)
		spoil(&v)
		_, err := e.Plugins.Register(e.ctx, v)
		if !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != field {
			t.Errorf("%s: %v (field %q)", field, err, errs.Field(err))
		}
	}
	if err := e.Plugins.Report(e.ctx, model.PluginReport{Name: "nope", Version: "1.0.0", Node: "n1", Status: model.BinaryOK}); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("report for an unregistered plugin: %v", err)
	}
	if _, err := e.Plugins.Enable(e.ctx, "nope", "1.0.0", []string{"n1"}); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("enable an unregistered plugin: %v", err)
	}
	if _, err := e.Plugins.Enable(e.ctx, "nope", "1.0.0", nil); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("enable without voters: %v", err)
	}
	if got := mustDigest(t, e.Engine()); got != before {
		t.Fatal("refused catalog commands changed the state")
	}
}
