package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/geo"
	"github.com/fengqiao/fengqiao/core/model"
	"go.etcd.io/bbolt"
)

func decodeGrid(raw []byte) (*model.Grid, error) {
	var g model.Grid
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, fmt.Errorf("core: corrupt grid: %w", err)
	}
	return &g, nil
}

// GridPayload is the payload of grid.create and grid.update.
type GridPayload struct {
	Grid model.Grid `json:"grid"`
}

func applyGridPut(t *txn, c *Command, p *GridPayload, create bool) (any, error) {
	g := p.Grid
	g.Duties = sortedUnique(g.Duties)
	if inputRules(c) {
		if err := model.CheckGrid(&g); err != nil {
			return nil, err
		}
	}
	if err := placeIn(c, "jurisdiction", g.Jurisdiction); err != nil {
		return nil, err
	}
	if _, err := t.village("jurisdiction", g.Jurisdiction); err != nil {
		return nil, err
	}
	if in, err := t.withinBounds(g.Jurisdiction, g.Geometry); err != nil {
		return nil, err
	} else if !in {
		return nil, errs.Invalid("geometry", "outside_parent", "grid lies outside the bounds of %s", g.Jurisdiction)
	}
	var old model.Grid
	exists, err := t.getRecord(bGrid, []byte(g.Code), &old)
	if err != nil {
		return nil, err
	}
	switch {
	case exists && hidden(c, old.Place()):
		if create {
			return nil, unavailable("code", g.Code)
		}
		return nil, errs.NotFound("code", "grid %s not found", g.Code)
	case create && exists:
		return nil, errs.Conflict("code", "exists", "grid %s already exists", g.Code)
	case !create && !exists:
		return nil, errs.NotFound("code", "grid %s not found", g.Code)
	case !create && old.Status == model.GridRetired:
		return nil, errs.Conflict("code", "retired", "grid %s is retired", g.Code)
	case !create && old.Jurisdiction != g.Jurisdiction:
		return nil, errs.Invalid("jurisdiction", "immutable", "a grid cannot move to another village")
	}
	if c.Level >= LevelDaily {
		if err := t.checkOverlap(&g); err != nil {
			return nil, err
		}
	}
	g.Status, g.Workers = model.GridActive, old.Workers
	delete(t.grids, g.Code)
	if err := t.putRecord(bGrid, []byte(g.Code), g); err != nil {
		return nil, err
	}
	if err := t.put(bGridByJur, key(g.Jurisdiction, g.Code)); err != nil {
		return nil, err
	}
	t.effect(func(e *Engine) { e.gridGen.Add(1) })
	return &g, nil
}

// checkOverlap refuses a basic grid whose interior meets another active
// basic grid of its village: basic grids tile a village (全覆盖、不交叉).
// A dedicated grid (a school, a hospital) may lie over basic ones. Grids
// of other villages are kept apart by the villages' bounds.
func (t *txn) checkOverlap(g *model.Grid) error {
	if g.Type != model.GridBasic {
		return nil
	}
	pre := key(g.Jurisdiction, "")
	c := t.b(bGridByJur).Cursor()
	for k, _ := c.Seek(pre); k != nil && bytes.HasPrefix(k, pre); k, _ = c.Next() {
		code := string(k[len(pre):])
		if code == g.Code {
			continue
		}
		var other model.Grid
		if ok, err := t.getRecord(bGrid, []byte(code), &other); err != nil {
			return err
		} else if !ok || other.Status != model.GridActive || other.Type != model.GridBasic {
			continue
		}
		if geo.Overlap(g.Geometry, other.Geometry) {
			return errs.Conflict("geometry", "overlap", "grid %s overlaps basic grid %s; basic grids of a village may share edges but not area", g.Code, other.Code)
		}
	}
	return nil
}

// RetirePayload is the payload of grid.retire.
type RetirePayload struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

func applyGridRetire(t *txn, c *Command, p *RetirePayload) (any, error) {
	g, err := loadIn(t, c, bGrid, p.Code, "code", "grid", (*model.Grid).Place)
	if err != nil {
		return nil, err
	}
	if g.Status == model.GridRetired {
		return nil, errs.Conflict("code", "retired", "grid %s is already retired", p.Code)
	}
	g.Status = model.GridRetired
	delete(t.grids, g.Code)
	t.effect(func(e *Engine) { e.gridGen.Add(1) })
	return g, t.putRecord(bGrid, []byte(g.Code), g)
}

func applyWorkerPut(t *txn, c *Command, w *model.Worker) (any, error) {
	if err := model.CheckID("id", w.ID); err != nil {
		return nil, err
	}
	if w.Name == "" {
		return nil, errs.Invalid("name", "required", "worker name is required")
	}
	if t.b(bJur).Get([]byte(w.Jurisdiction)) == nil || hidden(c, w.Jurisdiction) {
		return nil, errs.NotFound("jurisdiction", "jurisdiction %s not found", w.Jurisdiction)
	}
	var old model.Worker
	if exists, err := t.getRecord(bWorker, []byte(w.ID), &old); err != nil {
		return nil, err
	} else if exists && hidden(c, old.Jurisdiction) {
		return nil, unavailable("id", w.ID)
	}
	return w, t.putRecord(bWorker, []byte(w.ID), w)
}

// AssignPayload is the payload of grid.assign.
type AssignPayload struct {
	Grid   string `json:"grid"`
	Worker string `json:"worker"`
	Role   string `json:"role"` // empty removes the assignment
}

func applyGridAssign(t *txn, c *Command, p *AssignPayload) (any, error) {
	g, err := t.activeGrid(c, "grid", p.Grid)
	if err != nil {
		return nil, err
	}
	if _, err := loadIn(t, c, bWorker, p.Worker, "worker", "worker", func(w *model.Worker) string { return w.Jurisdiction }); err != nil {
		return nil, err
	}
	if p.Role != "" && p.Role != model.RoleGridLeader && p.Role != model.RoleFullTime && p.Role != model.RolePartTime {
		return nil, errs.Invalid("role", "enum", "role must be grid_leader, full_time or part_time")
	}
	g.Workers = slices.DeleteFunc(g.Workers, func(a model.Assignment) bool { return a.Worker == p.Worker })
	if p.Role == model.RoleGridLeader {
		for _, a := range g.Workers {
			if a.Role == model.RoleGridLeader {
				return nil, errs.Conflict("role", "one_leader", "grid %s already has a grid leader (%s)", g.Code, a.Worker)
			}
		}
	}
	if p.Role != "" {
		g.Workers = append(g.Workers, model.Assignment{Worker: p.Worker, Role: p.Role})
		slices.SortFunc(g.Workers, func(a, b model.Assignment) int { return strings.Compare(a.Worker, b.Worker) })
	}
	return g, t.putRecord(bGrid, []byte(g.Code), g)
}

func applyGridCreate(t *txn, c *Command, p *GridPayload) (any, error) {
	return applyGridPut(t, c, p, true)
}

func applyGridUpdate(t *txn, c *Command, p *GridPayload) (any, error) {
	return applyGridPut(t, c, p, false)
}

// Get returns one grid.
func (eng *Engine) Grid(code string) (*model.Grid, error) {
	var g *model.Grid
	err := eng.View(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bGrid).Get([]byte(code))
		if raw == nil {
			return errs.NotFound("code", "grid %s not found", code)
		}
		var err error
		g, err = decodeGrid(raw)
		return err
	})
	return g, err
}

// Grids pages through the grids whose codes start with prefix.
func (eng *Engine) Grids(prefix, after string, limit int) ([]model.Grid, string, error) {
	return valuesPage[model.Grid](eng, bGrid, []byte(prefix), after, PageLimit(limit, 100, 1000))
}
