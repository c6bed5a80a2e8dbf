package core

import (
	"errors"
	"strings"
	"testing"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// One state per event across tiers: the tier an event was escalated to
// holds it; the origin follows its outcomes, whole, and refuses to act
// on it, naming the holder.
func TestEscalatedEventHasOneStateAcrossTiers(t *testing.T) {
	county := fedEnv(t, "511083", model.Link{Peer: "511000", Relation: model.RelParent})
	city := fedEnv(t, "511000", model.Link{Peer: "511083", Relation: model.RelChild})
	escalate := func(desc string) string {
		t.Helper()
		ev, err := county.Events.Report(county.ctx, model.Report{Category: "dispute", Description: desc, Grid: "511083001001001"})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []model.Action{{Action: "accept"}, {Action: "escalate", Note: "请市级协调"}} {
			if _, err := county.Events.Act(county.ctx, ev.ID, a); err != nil {
				t.Fatal(err)
			}
		}
		pump(t, county, city)
		return ev.ID
	}
	act := func(e *env, id string, a model.Action) {
		t.Helper()
		if _, err := e.Events.Act(e.ctx, id, a); err != nil {
			t.Fatalf("%s: %v", a.Action, err)
		}
	}
	lastEntry := func(id string) model.TimelineEntry {
		tl, _ := county.Events.Timeline(id)
		return tl[len(tl)-1]
	}
	passed := true
	id := escalate("跨镇土地纠纷")
	// The origin may comment while the city holds it.
	act(county, id, model.Action{Action: "comment", Note: "县里跟进"})
	for _, a := range []model.Action{{Action: "accept"}, {Action: "dispatch", Handler: "市自然资源局"}, {Action: "sign"},
		{Action: "resolve", Note: "已重新勘界"}, {Action: "verify", Passed: &passed, Note: "核查通过"}} {
		act(city, id, a)
	}
	pump(t, city, county)
	ev, _ := county.Events.Get(id)
	last := lastEntry(id)
	if ev.Status != model.StatusClosed || last.Action != "outcome" || last.Note != "已重新勘界" || last.Data["handler"] != "dept:市自然资源局" {
		t.Fatalf("closed at the origin: %s, %+v", ev.Status, last)
	}
	// 回访 at the origin is refused, naming the holder; at the holder it
	// reaches the origin.
	err := refusedUnchanged(t, county, "rate at the origin", errs.ErrConflict, "holder", func() error {
		_, err := county.Events.Act(county.ctx, id, model.Action{Action: "rate", Satisfaction: "satisfied"})
		return err
	})
	if !strings.Contains(err.Error(), "511000") {
		t.Fatalf("the refusal does not name the holder: %v", err)
	}
	act(city, id, model.Action{Action: "rate", Satisfaction: "basically_satisfied"})
	pump(t, city, county)
	if ev, _ = county.Events.Get(id); ev.Satisfaction != "basically_satisfied" || ev.Status != model.StatusClosed {
		t.Fatalf("rated at the origin: %+v", ev)
	}
	// Declined above, it comes back whole: the reason, and the origin holds it again.
	id2 := escalate("楼道噪音")
	act(city, id2, model.Action{Action: "reject", Reason: "属县级事权"})
	pump(t, city, county)
	ev, _ = county.Events.Get(id2)
	if ev.Status != model.StatusAccepted || ev.EscalatedTo != "" || lastEntry(id2).Data["reason"] != "属县级事权" {
		t.Fatalf("declined: %+v %+v", ev, lastEntry(id2))
	}
	act(county, id2, model.Action{Action: "dispatch", Handler: "镇综治办"}) // the county acts again
	// Merged above: the origin's copy is merged into the same target.
	target := escalate("同一纠纷甲")
	id3 := escalate("同一纠纷乙")
	act(city, target, model.Action{Action: "accept"})
	act(city, id3, model.Action{Action: "merge", Into: target})
	pump(t, city, county)
	if ev, _ = county.Events.Get(id3); ev.Status != model.StatusMerged || ev.MergedInto != target {
		t.Fatalf("merged: %+v", ev)
	}
	if _, err := county.Events.Act(county.ctx, id3, model.Action{Action: "comment", Note: "x"}); err != nil && !errors.Is(err, errs.ErrIllegalTransition) {
		t.Fatalf("comment on a merged copy: %v", err)
	}
}
