package core

import (
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

func TestPersonUpdateAndTransfer(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	grid1, grid2 := villageA+"001", villageA+"002"
	p, err := e.People.Add(e.ctx, model.PersonInput{Name: "张三", IDNumber: idNumber(7), Kind: "registered", Jurisdiction: villageA, Grid: grid1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.People.SetSpecial(e.ctx, p.ID, model.SpecialInput{Category: model.SpecialReleased, Level: 1,
		Since: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Details: model.SpecialDetails{ReleaseDate: "2026-01-01"}}); err != nil {
		t.Fatal(err)
	}
	h2, err := e.Houses.Add(e.ctx, model.House{Address: "二组 8 号", Jurisdiction: villageA, Grid: grid2})
	if err != nil {
		t.Fatal(err)
	}
	// Name (sealed again), kind, grid and house in one update.
	name, kind := "张叁", "floating"
	got, err := e.People.Update(e.ctx, p.ID, model.PersonPatch{Name: &name, Kind: &kind, Grid: &grid2, House: &h2.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != kind || got.Grid != grid2 || got.House != h2.ID || got.NameMasked != "张*" || got.NameSealed == p.NameSealed {
		t.Fatalf("updated %+v", got)
	}
	if r, err := e.People.Reveal(e.ctx, p.ID, model.Purpose{Basis: model.BasisVisit, Text: "核对"}); err != nil || r.Name != name {
		t.Fatalf("reveal after update: %+v %v", r, err)
	}
	// The place indexes moved with the person: listing and due visits.
	if ps, _, err := e.People.List(grid2, "", 0); err != nil || len(ps) != 1 {
		t.Fatalf("people on grid 2: %v %v", ps, err)
	}
	if ps, _, _ := e.People.List(grid1, "", 0); len(ps) != 0 {
		t.Fatalf("still on grid 1: %v", ps)
	}
	if due, err := e.People.DueVisits(grid2, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), 10); err != nil || len(due) != 1 {
		t.Fatalf("due visits on grid 2: %v %v", due, err)
	}
	bad := "alien"
	refusedUnchanged(t, e, "unknown kind", errs.ErrInvalid, "kind", func() error {
		_, err := e.People.Update(e.ctx, p.ID, model.PersonPatch{Kind: &bad})
		return err
	})
	refusedUnchanged(t, e, "house off the grid", errs.ErrInvalid, "house", func() error {
		_, err := e.People.Update(e.ctx, p.ID, model.PersonPatch{Grid: &grid1})
		return err
	})
	// A transfer to township B: a township A token does not reach it, the
	// county's does.
	a := e.scoped(townA)
	refusedUnchanged(t, e, "transfer out of scope", errs.ErrNotFound, "jurisdiction", func() error {
		_, err := e.People.Transfer(a, p.ID, model.Transfer{Jurisdiction: villageB, Reason: "搬家"})
		return err
	})
	refusedUnchanged(t, e, "transfer without reason", errs.ErrInvalid, "reason", func() error {
		_, err := e.People.Transfer(e.ctx, p.ID, model.Transfer{Jurisdiction: villageB})
		return err
	})
	refusedUnchanged(t, e, "transfer to the same village", errs.ErrInvalid, "jurisdiction", func() error {
		_, err := e.People.Transfer(e.ctx, p.ID, model.Transfer{Jurisdiction: villageA, Reason: "搬家"})
		return err
	})
	refusedUnchanged(t, e, "transfer to another group", errs.ErrNotFound, "jurisdiction", func() error {
		_, err := e.People.Transfer(e.ctx, p.ID, model.Transfer{Jurisdiction: "500110001001", Reason: "搬家"})
		return err
	})
	moved, err := e.People.Transfer(e.ctx, p.ID, model.Transfer{Jurisdiction: villageB, Grid: villageB + "001", Reason: "搬家"})
	if err != nil {
		t.Fatal(err)
	}
	if moved.Jurisdiction != villageB || moved.House != "" || moved.Special == nil {
		t.Fatalf("moved %+v", moved)
	}
	// Now out of A's sight, answering as a missing person.
	hidden := refusedUnchanged(t, e, "update B's person from A", errs.ErrNotFound, "id", func() error {
		_, err := e.People.Update(a, p.ID, model.PersonPatch{Kind: &kind})
		return err
	})
	missing := refusedUnchanged(t, e, "update nobody", errs.ErrNotFound, "id", func() error {
		_, err := e.People.Update(a, "p-nobody", model.PersonPatch{Kind: &kind})
		return err
	})
	sameAsMissing(t, "update", hidden, missing, p.ID, "p-nobody")
	if due, _ := e.People.DueVisits(villageB, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), 10); len(due) != 1 {
		t.Fatalf("due visits after the transfer: %v", due)
	}
}
