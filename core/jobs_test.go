package core

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
)

// Embedded mode runs the whole job list: an overdue event is marked, an
// overdue visit opens an alert, and a handover past its deadline opens one
// too — the last two were the leader's alone before the list was one — and
// a revoked token is tidied away.
func TestEmbeddedRunsEveryJob(t *testing.T) {
	e := fedEnv(t, "511083", model.Link{Peer: "500153", Relation: model.RelPeer})
	ev, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "x", Grid: "511083001001001", Urgency: model.UrgencyCritical})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.People.Add(e.ctx, model.PersonInput{Name: "赵六", IDNumber: idNumber(901), Kind: "registered", Jurisdiction: "511083001001"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.People.SetSpecial(e.ctx, p.ID, model.SpecialInput{Category: model.SpecialReleased, Level: 3,
		Since: e.clock.Now().AddDate(0, -2, 0), Details: model.SpecialDetails{ReleaseDate: "2025-06-01"}}); err != nil {
		t.Fatal(err)
	}
	q, _ := e.People.Add(e.ctx, model.PersonInput{Name: "钱七", IDNumber: idNumber(902), Kind: "registered", Jurisdiction: "511083001001"})
	h, err := e.Handovers.Open(e.ctx, q.ID, "500153", e.clock.Now().Add(time.Hour), "迁居")
	if err != nil {
		t.Fatal(err)
	}
	tk, _, err := e.Tokens.Create(e.ctx, "离任", "township_operator", "511083001", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Tokens.Revoke(e.ctx, tk.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(e.clock.Now().AddDate(0, 1, 0)) // every deadline has passed
	names := []string{}
	for _, j := range e.Jobs() {
		names = append(names, j.Name)
	}
	for _, want := range []string{"deadlines", "visit_alerts", "handover_deadlines", "audit_keying", "rollup", "witness", "token_tidy"} {
		if !slices.Contains(names, want) {
			t.Fatalf("job %s is not in the list %v", want, names)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.RunJobs(ctx, e.Jobs(), JobOptions{Tick: 5 * time.Millisecond}); close(done) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		got, _ := e.Events.Get(ev.ID)
		person, _ := e.People.Get(p.ID)
		ho, _ := e.Handovers.Get(h.ID)
		_, tkErr := e.Tokens.Get(tk.ID)
		if got.Overdue && person.Special.AlertedFor.Equal(person.Special.NextDue) && ho.AlertEvent != "" && tkErr != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the jobs ran: overdue %v, visit alerted %v, handover alert %q, revoked token still there %v", got.Overdue,
				person.Special.AlertedFor.Equal(person.Special.NextDue), ho.AlertEvent, tkErr == nil)
		}
	}
}

// An idle store's jobs propose nothing: no sweep, rollup or witness
// without work, so the audit chain does not grow by itself.
func TestIdleJobsProposeNothing(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	if _, err := e.KeyAuditChain(e.ctx); err != nil { // as Open does
		t.Fatal(err)
	}
	before := len(e.rec.data)
	for _, j := range e.Jobs() {
		if err := j.Run(e.ctx, e.clock.Now()); err != nil {
			t.Fatalf("%s: %v", j.Name, err)
		}
	}
	if n := len(e.rec.data) - before; n != 0 {
		t.Fatalf("idle jobs proposed %d commands", n)
	}
}
