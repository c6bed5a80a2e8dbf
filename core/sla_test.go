package core

import (
	"testing"

	"github.com/fengqiao/fengqiao/core/model"
)

// Setting one store's deadline table leaves the defaults of every other
// store in the process as they were: two groups in one process (the demo,
// an embedding program) must not share a table.
func TestSLADoesNotLeakAcrossStores(t *testing.T) {
	a, b := newEnv(t, false), newEnv(t, false)
	a.withCounty(t)
	b.withCounty(t)
	want := model.DefaultSLA.Clone().Default[model.UrgencyNormal]
	cfg := model.SLAConfig{Default: map[string]model.SLA{
		model.UrgencyNormal:   {AcceptMinutes: 7, ResolveMinutes: 9},
		model.UrgencyUrgent:   {AcceptMinutes: 1, ResolveMinutes: 2},
		model.UrgencyCritical: {AcceptMinutes: 1, ResolveMinutes: 2},
	}}
	if err := a.Events.SetSLA(a.ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Events.Report(a.ctx, model.Report{Category: "dispute", Description: "x", Grid: "511083001001001"}); err != nil {
		t.Fatal(err)
	}
	if got := model.DefaultSLA.Default[model.UrgencyNormal]; got != want {
		t.Fatalf("the process-wide defaults changed: %+v, want %+v", got, want)
	}
	got, err := b.Events.SLA()
	if err != nil || got.Default[model.UrgencyNormal] != want {
		t.Fatalf("another store's table: %+v %v", got.Default, err)
	}
	if mine, _ := a.Events.SLA(); mine.Default[model.UrgencyNormal].AcceptMinutes != 7 {
		t.Fatalf("the store's own table: %+v", mine.Default)
	}
}
