package core

import (
	"context"

	"github.com/paulmach/orb"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// Grids is the typed API for grids and grid workers.
type Grids struct {
	s     *Store
	index gridIndex // point → grid, rebuilt when the grids change
}

// Create adds a grid after validating its fields and GeoJSON geometry.
func (gs *Grids) Create(ctx context.Context, spec model.GridSpec) (*model.Grid, error) {
	g, err := spec.ToGrid()
	if err != nil {
		return nil, err
	}
	return gs.put(ctx, "grid.create", g)
}

// CreatePolygon adds a grid from an already parsed polygon.
func (gs *Grids) CreatePolygon(ctx context.Context, spec model.GridSpec, poly orb.Polygon) (*model.Grid, error) {
	g, err := spec.Build(poly)
	if err != nil {
		return nil, err
	}
	return gs.put(ctx, "grid.create", g)
}

// Update replaces a grid's name, type, duties and geometry.
func (gs *Grids) Update(ctx context.Context, spec model.GridSpec) (*model.Grid, error) {
	g, err := spec.ToGrid()
	if err != nil {
		return nil, err
	}
	return gs.put(ctx, "grid.update", g)
}

func (gs *Grids) put(ctx context.Context, typ string, g *model.Grid) (*model.Grid, error) {
	return applyAs[*model.Grid](ctx, gs.s, typ, g.Jurisdiction, state.GridPayload{Grid: *g})
}

// Retire takes a grid out of use; its events and history stay.
func (gs *Grids) Retire(ctx context.Context, code, reason string) error {
	if err := model.CheckReason(reason); err != nil {
		return err
	}
	_, err := gs.s.apply(ctx, "grid.retire", "", state.RetirePayload{Code: code, Reason: reason})
	return err
}

// PutWorker creates or updates a grid worker.
func (gs *Grids) PutWorker(ctx context.Context, w model.Worker) error {
	if err := model.CheckID("id", w.ID); err != nil {
		return err
	}
	_, err := gs.s.apply(ctx, "worker.put", w.Jurisdiction, w)
	return err
}

// Assign puts a worker on a grid in a role; an empty role removes them.
func (gs *Grids) Assign(ctx context.Context, grid, worker, role string) (*model.Grid, error) {
	return applyAs[*model.Grid](ctx, gs.s, "grid.assign", "", state.AssignPayload{Grid: grid, Worker: worker, Role: role})
}

// Get returns one grid.
func (gs *Grids) Get(code string) (*model.Grid, error) {
	return gs.s.engine.Grid(code)
}

// List returns the grids under a jurisdiction code (any tier) by code, a page
// at a time: after is the previous page's next ("" for the first), next is ""
// on the last page, and limit is 1..1000 (else 100).
func (gs *Grids) List(under, after string, limit int) ([]*model.Grid, string, error) {
	pre, err := gs.s.scope("under", under)
	if err != nil {
		return nil, "", err
	}
	page, next, err := gs.s.engine.Grids(pre, after, limit)
	if err != nil {
		return nil, "", err
	}
	out := make([]*model.Grid, len(page))
	for i := range page {
		out[i] = &page[i]
	}
	return out, next, nil
}

// Locate returns the active grid that contains the point.
func (gs *Grids) Locate(lng, lat float64) (*model.Grid, error) {
	if err := model.CheckLngLat(lng, lat); err != nil {
		return nil, err
	}
	code, ok, err := gs.index.locate(gs.s, lng, lat)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.NotFound("location", "no grid contains (%g, %g)", lng, lat)
	}
	return gs.Get(code)
}
