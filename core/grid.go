package core

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/paulmach/orb"
	"go.etcd.io/bbolt"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/geo"
)

// GridType distinguishes basic grids from dedicated ones (专属网格).
type GridType string

// Grid types.
const (
	GridBasic     GridType = "basic"
	GridDedicated GridType = "dedicated"
)

// Dedicated grid kinds.
var dedicatedKinds = []string{"school", "hospital", "enterprise", "market", "park", "other"}

// Duties a grid can carry at once (多网融合).
var gridDuties = []string{"comprehensive", "urban_management", "emergency", "safety", "environment", "market_supervision"}

// GridStatus is whether a grid is in use.
type GridStatus string

// Grid statuses.
const (
	GridActive  GridStatus = "active"
	GridRetired GridStatus = "retired"
)

// Worker roles on a grid.
const (
	RoleGridLeader = "grid_leader" // 网格长
	RoleFullTime   = "full_time"   // 专职网格员
	RolePartTime   = "part_time"   // 兼职网格员
)

// Assignment puts a worker on a grid in a role.
type Assignment struct {
	Worker string `json:"worker"`
	Role   string `json:"role"`
}

// Grid is one 网格: a polygon inside one village or community.
type Grid struct {
	Code         string       `json:"code"`
	Name         string       `json:"name"`
	Jurisdiction string       `json:"jurisdiction"` // the village/community code
	Type         GridType     `json:"type"`
	Dedicated    string       `json:"dedicated,omitempty"`
	Duties       []string     `json:"duties"`
	Status       GridStatus   `json:"status"`
	Derived      bool         `json:"derived,omitempty"` // polygon derived, not surveyed
	Geometry     orb.Polygon  `json:"geometry"`
	Workers      []Assignment `json:"workers,omitempty"`

	polygon orb.Polygon
}

func decodeGrid(raw []byte) (*Grid, error) {
	var g Grid
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, fmt.Errorf("core: corrupt grid: %w", err)
	}
	g.polygon = g.Geometry
	return &g, nil
}

// Worker is a grid worker (网格员).
type Worker struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Jurisdiction string `json:"jurisdiction"`
}

// GridSpec is the input to create or update a grid.
type GridSpec struct {
	Code         string          `json:"code"`
	Name         string          `json:"name"`
	Jurisdiction string          `json:"jurisdiction"`
	Type         GridType        `json:"type,omitempty"`
	Dedicated    string          `json:"dedicated,omitempty"`
	Duties       []string        `json:"duties,omitempty"`
	Geometry     json.RawMessage `json:"geometry"` // GeoJSON Feature or Polygon
	Derived      bool            `json:"derived,omitempty"`
}

// Grids is the typed API for grids and grid workers.
type Grids struct{ s *Store }

type gridPayload struct {
	Grid Grid `json:"grid"`
}

func init() {
	handle("grid.create", 1, func(t *txn, c *Command, p *gridPayload) (any, error) { return applyGridPut(t, c, p, true) })
	handle("grid.update", 1, func(t *txn, c *Command, p *gridPayload) (any, error) { return applyGridPut(t, c, p, false) })
	handle("grid.retire", 1, applyGridRetire)
	handle("worker.put", 1, applyWorkerPut)
	handle("grid.assign", 1, applyGridAssign)
}

// checkGrid validates a grid's fields; it runs before proposing and again in apply.
func checkGrid(g *Grid) error {
	if !strings.HasPrefix(g.Code, g.Jurisdiction) || len(g.Jurisdiction) != 12 {
		return errs.Invalid("code", "format", "grid code must be the 12-digit village code %q plus a serial", g.Jurisdiction)
	}
	serial := g.Code[len(g.Jurisdiction):]
	if len(serial) < 1 || len(serial) > 6 || strings.Trim(serial, "0123456789") != "" {
		return errs.Invalid("code", "format", "grid serial must be 1..6 digits, got %q", serial)
	}
	if g.Name == "" || len(g.Name) > 200 {
		return errs.Invalid("name", "required", "name must be 1..200 bytes")
	}
	switch g.Type {
	case GridBasic:
		if g.Dedicated != "" {
			return errs.Invalid("dedicated", "type", "only a dedicated grid has a dedicated kind")
		}
	case GridDedicated:
		if !slices.Contains(dedicatedKinds, g.Dedicated) {
			return errs.Invalid("dedicated", "enum", "dedicated kind must be one of %v", dedicatedKinds)
		}
	default:
		return errs.Invalid("type", "enum", "type must be basic or dedicated, got %q", g.Type)
	}
	if len(g.Duties) == 0 {
		return errs.Invalid("duties", "required", "a grid carries at least one duty")
	}
	for i, d := range g.Duties {
		if !slices.Contains(gridDuties, d) {
			return errs.Invalid(fmt.Sprintf("duties[%d]", i), "enum", "duty must be one of %v", gridDuties)
		}
	}
	return geo.ValidatePolygon("geometry", g.Geometry)
}

func applyGridPut(t *txn, c *Command, p *gridPayload, create bool) (any, error) {
	g := p.Grid
	g.Duties = sortedUnique(g.Duties)
	if err := checkGrid(&g); err != nil {
		return nil, err
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
	var old Grid
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
	case !create && old.Status == GridRetired:
		return nil, errs.Conflict("code", "retired", "grid %s is retired", g.Code)
	case !create && old.Jurisdiction != g.Jurisdiction:
		return nil, errs.Invalid("jurisdiction", "immutable", "a grid cannot move to another village")
	}
	g.Status, g.Workers = GridActive, old.Workers
	delete(t.grids, g.Code)
	if err := t.putRecord(bGrid, []byte(g.Code), g); err != nil {
		return nil, err
	}
	if err := t.put(bGridByJur, key(g.Jurisdiction, g.Code)); err != nil {
		return nil, err
	}
	code, poly := g.Code, g.Geometry
	t.effect(func(e *Engine) { e.grids.Put(code, poly) })
	return &g, nil
}

type retirePayload struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

func applyGridRetire(t *txn, c *Command, p *retirePayload) (any, error) {
	g, err := loadIn(t, c, bGrid, p.Code, "code", "grid", (*Grid).Place)
	if err != nil {
		return nil, err
	}
	if g.Status == GridRetired {
		return nil, errs.Conflict("code", "retired", "grid %s is already retired", p.Code)
	}
	g.Status = GridRetired
	delete(t.grids, g.Code)
	code := g.Code
	t.effect(func(e *Engine) { e.grids.Remove(code) })
	return g, t.putRecord(bGrid, []byte(g.Code), g)
}

func applyWorkerPut(t *txn, c *Command, w *Worker) (any, error) {
	if err := checkID("id", w.ID); err != nil {
		return nil, err
	}
	if w.Name == "" {
		return nil, errs.Invalid("name", "required", "worker name is required")
	}
	if t.b(bJur).Get([]byte(w.Jurisdiction)) == nil || hidden(c, w.Jurisdiction) {
		return nil, errs.NotFound("jurisdiction", "jurisdiction %s not found", w.Jurisdiction)
	}
	var old Worker
	if exists, err := t.getRecord(bWorker, []byte(w.ID), &old); err != nil {
		return nil, err
	} else if exists && hidden(c, old.Jurisdiction) {
		return nil, unavailable("id", w.ID)
	}
	return w, t.putRecord(bWorker, []byte(w.ID), w)
}

type assignPayload struct {
	Grid   string `json:"grid"`
	Worker string `json:"worker"`
	Role   string `json:"role"` // empty removes the assignment
}

func applyGridAssign(t *txn, c *Command, p *assignPayload) (any, error) {
	g, err := t.activeGrid(c, "grid", p.Grid)
	if err != nil {
		return nil, err
	}
	if _, err := loadIn(t, c, bWorker, p.Worker, "worker", "worker", func(w *Worker) string { return w.Jurisdiction }); err != nil {
		return nil, err
	}
	if p.Role != "" && p.Role != RoleGridLeader && p.Role != RoleFullTime && p.Role != RolePartTime {
		return nil, errs.Invalid("role", "enum", "role must be grid_leader, full_time or part_time")
	}
	g.Workers = slices.DeleteFunc(g.Workers, func(a Assignment) bool { return a.Worker == p.Worker })
	if p.Role == RoleGridLeader {
		for _, a := range g.Workers {
			if a.Role == RoleGridLeader {
				return nil, errs.Conflict("role", "one_leader", "grid %s already has a grid leader (%s)", g.Code, a.Worker)
			}
		}
	}
	if p.Role != "" {
		g.Workers = append(g.Workers, Assignment{Worker: p.Worker, Role: p.Role})
		slices.SortFunc(g.Workers, func(a, b Assignment) int { return strings.Compare(a.Worker, b.Worker) })
	}
	return g, t.putRecord(bGrid, []byte(g.Code), g)
}

// grid builds a checked Grid from the spec and a parsed polygon, with the
// defaults a basic comprehensive grid has.
func (s GridSpec) grid(poly orb.Polygon) (*Grid, error) {
	g := &Grid{Code: s.Code, Name: s.Name, Jurisdiction: s.Jurisdiction, Type: s.Type, Dedicated: s.Dedicated,
		Duties: s.Duties, Geometry: poly, Derived: s.Derived}
	if g.Type == "" {
		g.Type = GridBasic
	}
	if len(g.Duties) == 0 {
		g.Duties = []string{"comprehensive"}
	}
	return g, checkGrid(g)
}

func (s GridSpec) toGrid() (*Grid, error) {
	poly, err := geo.ParsePolygon("geometry", s.Geometry)
	if err != nil {
		return nil, err
	}
	return s.grid(poly)
}

// Create adds a grid after validating its fields and GeoJSON geometry.
func (gs *Grids) Create(ctx context.Context, spec GridSpec) (*Grid, error) {
	g, err := spec.toGrid()
	if err != nil {
		return nil, err
	}
	return gs.put(ctx, "grid.create", g)
}

// CreatePolygon adds a grid from an already parsed polygon.
func (gs *Grids) CreatePolygon(ctx context.Context, spec GridSpec, poly orb.Polygon) (*Grid, error) {
	g, err := spec.grid(poly)
	if err != nil {
		return nil, err
	}
	return gs.put(ctx, "grid.create", g)
}

// Update replaces a grid's name, type, duties and geometry.
func (gs *Grids) Update(ctx context.Context, spec GridSpec) (*Grid, error) {
	g, err := spec.toGrid()
	if err != nil {
		return nil, err
	}
	return gs.put(ctx, "grid.update", g)
}

func (gs *Grids) put(ctx context.Context, typ string, g *Grid) (*Grid, error) {
	return applyAs[*Grid](ctx, gs.s, typ, g.Jurisdiction, gridPayload{Grid: *g})
}

// Retire takes a grid out of use; its events and history stay.
func (gs *Grids) Retire(ctx context.Context, code, reason string) error {
	_, err := gs.s.apply(ctx, "grid.retire", "", retirePayload{Code: code, Reason: reason})
	return err
}

// PutWorker creates or updates a grid worker.
func (gs *Grids) PutWorker(ctx context.Context, w Worker) error {
	if err := checkID("id", w.ID); err != nil {
		return err
	}
	_, err := gs.s.apply(ctx, "worker.put", w.Jurisdiction, w)
	return err
}

// Assign puts a worker on a grid in a role; an empty role removes them.
func (gs *Grids) Assign(ctx context.Context, grid, worker, role string) (*Grid, error) {
	return applyAs[*Grid](ctx, gs.s, "grid.assign", "", assignPayload{Grid: grid, Worker: worker, Role: role})
}

// Get returns one grid.
func (gs *Grids) Get(code string) (*Grid, error) {
	var g *Grid
	err := gs.s.engine.View(func(tx *bbolt.Tx) error {
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

// List returns the grids under a jurisdiction code (any tier) by code, a page
// at a time: after is the previous page's next ("" for the first), next is ""
// on the last page, and limit is 1..1000 (else 100).
func (gs *Grids) List(under, after string, limit int) ([]*Grid, string, error) {
	pre, err := gs.s.scope("under", under)
	if err != nil {
		return nil, "", err
	}
	page, next, err := valuesPage[Grid](gs.s.engine, bGrid, []byte(pre), after, pageLimit(limit, 100, 1000))
	if err != nil {
		return nil, "", err
	}
	out := make([]*Grid, len(page))
	for i := range page {
		page[i].polygon = page[i].Geometry
		out[i] = &page[i]
	}
	return out, next, nil
}

// Locate returns the active grid that contains the point.
func (gs *Grids) Locate(lng, lat float64) (*Grid, error) {
	if err := checkLngLat(lng, lat); err != nil {
		return nil, err
	}
	code, ok := gs.s.engine.LocateGrid(lng, lat)
	if !ok {
		return nil, errs.NotFound("location", "no grid contains (%g, %g)", lng, lat)
	}
	return gs.Get(code)
}

func checkLngLat(lng, lat float64) error {
	if !(lng >= -180 && lng <= 180) {
		return errs.Invalid("location.lng", "range", "longitude %g out of range", lng)
	}
	if !(lat >= -90 && lat <= 90) {
		return errs.Invalid("location.lat", "range", "latitude %g out of range", lat)
	}
	return nil
}

// checkID accepts ids of 1..64 characters from [A-Za-z0-9_.:-].
func checkID(field, id string) error {
	if id == "" || len(id) > 64 {
		return errs.Invalid(field, "format", "id must be 1..64 characters")
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == ':') {
			return errs.Invalid(field, "format", "id may hold letters, digits and - _ . : only")
		}
	}
	return nil
}
