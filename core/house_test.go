package core

import (
	"testing"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

func TestHouseLifecycle(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	grid1, grid2 := villageA+"001", villageA+"002"
	h, err := e.Houses.Add(e.ctx, model.House{Address: "白鹤路 3 号", Jurisdiction: villageA, Grid: grid1, Use: "residential", Rented: true})
	if err != nil {
		t.Fatal(err)
	}
	if h.ID == "" || h.Status != "" {
		t.Fatalf("added %+v", h)
	}
	// A second house under the same id is refused, not overwritten.
	refusedUnchanged(t, e, "duplicate id", errs.ErrConflict, "id", func() error {
		_, err := e.Houses.Add(e.ctx, model.House{ID: h.ID, Address: "别处", Jurisdiction: villageA})
		return err
	})
	// Residents name it; one living elsewhere than the house is refused.
	p, err := e.People.Add(e.ctx, model.PersonInput{Name: "李四", IDNumber: idNumber(1), Kind: "registered", Jurisdiction: villageA, Grid: grid1, House: h.ID})
	if err != nil {
		t.Fatal(err)
	}
	refusedUnchanged(t, e, "house elsewhere", errs.ErrInvalid, "house", func() error {
		_, err := e.People.Add(e.ctx, model.PersonInput{Name: "王五", IDNumber: idNumber(2), Kind: "registered", Jurisdiction: villageA, Grid: grid2, House: h.ID})
		return err
	})
	got, err := e.Houses.Get(h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rs, err := e.Houses.Residents(got, 0); err != nil || len(rs) != 1 || rs[0].ID != p.ID {
		t.Fatalf("residents %v %v", rs, err)
	}
	// Update: the address changes; the grid does not while people live
	// there; the village never.
	addr := "白鹤路 3 号附 1 号"
	if h, err = e.Houses.Update(e.ctx, h.ID, model.HousePatch{Address: &addr}); err != nil || h.Address != addr || !h.Rented {
		t.Fatalf("update: %+v %v", h, err)
	}
	refusedUnchanged(t, e, "grid with residents", errs.ErrConflict, "grid", func() error {
		_, err := e.Houses.Update(e.ctx, h.ID, model.HousePatch{Grid: &grid2})
		return err
	})
	bad := "castle"
	refusedUnchanged(t, e, "unknown use", errs.ErrInvalid, "use", func() error {
		_, err := e.Houses.Update(e.ctx, h.ID, model.HousePatch{Use: &bad})
		return err
	})
	empty := ""
	refusedUnchanged(t, e, "empty address", errs.ErrInvalid, "address", func() error {
		_, err := e.Houses.Update(e.ctx, h.ID, model.HousePatch{Address: &empty})
		return err
	})
	// Retiring a house people live in is refused; once empty it retires.
	refusedUnchanged(t, e, "retire with residents", errs.ErrConflict, "id", func() error {
		_, err := e.Houses.Retire(e.ctx, h.ID, "拆迁")
		return err
	})
	refusedUnchanged(t, e, "retire without reason", errs.ErrInvalid, "reason", func() error {
		_, err := e.Houses.Retire(e.ctx, h.ID, " ")
		return err
	})
	empty2, err := e.Houses.Add(e.ctx, model.House{Address: "白鹤路 5 号", Jurisdiction: villageA, Grid: grid1})
	if err != nil {
		t.Fatal(err)
	}
	if empty2, err = e.Houses.Update(e.ctx, empty2.ID, model.HousePatch{Grid: &grid2}); err != nil || empty2.Grid != grid2 {
		t.Fatalf("move an empty house: %+v %v", empty2, err)
	}
	r, err := e.Houses.Retire(e.ctx, empty2.ID, "拆迁")
	if err != nil || r.Status != model.HouseRetired || r.Reason != "拆迁" {
		t.Fatalf("retire: %+v %v", r, err)
	}
	refusedUnchanged(t, e, "retired house takes no one", errs.ErrConflict, "house", func() error {
		_, err := e.People.Add(e.ctx, model.PersonInput{Name: "赵六", IDNumber: idNumber(3), Kind: "registered", Jurisdiction: villageA, Grid: grid2, House: empty2.ID})
		return err
	})
	refusedUnchanged(t, e, "retired house unchanged", errs.ErrConflict, "id", func() error {
		_, err := e.Houses.Update(e.ctx, empty2.ID, model.HousePatch{Address: &addr})
		return err
	})
	// Listing by place follows the grid move.
	if hs, _, err := e.Houses.List(grid2, "", 0); err != nil || len(hs) != 1 || hs[0].ID != empty2.ID {
		t.Fatalf("houses on grid 2: %v %v", hs, err)
	}
	if hs, _, err := e.Houses.List(grid1, "", 0); err != nil || len(hs) != 1 || hs[0].ID != h.ID {
		t.Fatalf("houses on grid 1: %v %v", hs, err)
	}
}

func TestHousesOutOfScopeReadAsMissing(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	hB, err := e.Houses.Add(e.ctx, model.House{Address: "B 村 1 号", Jurisdiction: villageB})
	if err != nil {
		t.Fatal(err)
	}
	a := e.scoped(townA)
	hidden := refusedUnchanged(t, e, "retire B's house", errs.ErrNotFound, "id", func() error {
		_, err := e.Houses.Retire(a, hB.ID, "拆迁")
		return err
	})
	missing := refusedUnchanged(t, e, "retire no house", errs.ErrNotFound, "id", func() error {
		_, err := e.Houses.Retire(a, "h-nobody", "拆迁")
		return err
	})
	sameAsMissing(t, "retire", hidden, missing, hB.ID, "h-nobody")
	refusedUnchanged(t, e, "take B's id", errs.ErrConflict, "id", func() error {
		_, err := e.Houses.Add(a, model.House{ID: hB.ID, Address: "A 村", Jurisdiction: villageA})
		return err
	})
	refusedUnchanged(t, e, "add in B", errs.ErrNotFound, "jurisdiction", func() error {
		_, err := e.Houses.Add(a, model.House{Address: "B 村 2 号", Jurisdiction: villageB})
		return err
	})
}
