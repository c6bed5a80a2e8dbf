package core

import (
	"fmt"
	"testing"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// rect is a GeoJSON Feature of an axis-aligned rectangle.
func rect(x0, y0, x1, y1 float64) []byte {
	return fmt.Appendf(nil, `{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}}`,
		x0, y0, x1, y0, x1, y1, x0, y1, x0, y0)
}

func TestBasicGridsDoNotOverlapAndPointsFindTheMostSpecific(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	bounds, _, err := e.Jurisdictions.Bounds(villageA)
	if err != nil {
		t.Fatal(err)
	}
	cell := bounds[0][0]
	x0, y0, x1, y1 := cell[0][0], cell[0][1], cell[2][0], cell[2][1]
	mx, my := (x0+x1)/2, (y0+y1)/2
	// The village's four derived basic grids tile the cell; 001 is its
	// lower-left quarter. A new basic grid over part of it is refused.
	refusedUnchanged(t, e, "overlapping basic grid", errs.ErrConflict, "geometry", func() error {
		_, err := e.Grids.Create(e.ctx, model.GridSpec{Code: villageA + "201", Name: "重叠", Jurisdiction: villageA,
			Type: model.GridBasic, Duties: []string{"comprehensive"}, Geometry: rect(x0, y0, (x0+mx)/2, (y0+my)/2)})
		return err
	})
	// Retired, its quarter takes a new basic grid sharing edges with its
	// neighbours.
	if err := e.Grids.Retire(e.ctx, villageA+"001", "重划"); err != nil {
		t.Fatal(err)
	}
	basic, err := e.Grids.Create(e.ctx, model.GridSpec{Code: villageA + "201", Name: "新一网格", Jurisdiction: villageA,
		Type: model.GridBasic, Duties: []string{"comprehensive"}, Geometry: rect(x0, y0, mx, my)})
	if err != nil {
		t.Fatalf("a basic grid sharing only edges: %v", err)
	}
	// Growing it over its neighbour is refused too.
	refusedUnchanged(t, e, "update over a neighbour", errs.ErrConflict, "geometry", func() error {
		_, err := e.Grids.Update(e.ctx, model.GridSpec{Code: basic.Code, Name: basic.Name, Jurisdiction: villageA,
			Type: model.GridBasic, Duties: []string{"comprehensive"}, Geometry: rect(x0, y0, (mx+x1)/2, my)})
		return err
	})
	// A school inside it is a dedicated grid; a point in the school finds
	// the school, a point beside it the basic grid.
	sx0, sy0, sx1, sy1 := x0+(mx-x0)/4, y0+(my-y0)/4, x0+(mx-x0)/2, y0+(my-y0)/2
	school, err := e.Grids.Create(e.ctx, model.GridSpec{Code: villageA + "301", Name: "学校", Jurisdiction: villageA,
		Type: model.GridDedicated, Dedicated: "school", Duties: []string{"comprehensive"}, Geometry: rect(sx0, sy0, sx1, sy1)})
	if err != nil {
		t.Fatalf("a dedicated grid inside a basic one: %v", err)
	}
	if g, err := e.Grids.Locate((sx0+sx1)/2, (sy0+sy1)/2); err != nil || g.Code != school.Code {
		t.Fatalf("a point in the school: %v %v", g, err)
	}
	if g, err := e.Grids.Locate((sx1+mx)/2, (sy1+my)/2); err != nil || g.Code != basic.Code {
		t.Fatalf("a point beside the school: %v %v", g, err)
	}
}
