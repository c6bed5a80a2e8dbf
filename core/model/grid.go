package model

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/geo"
	"github.com/paulmach/orb"
)

// GridType distinguishes basic grids from dedicated ones (专属网格).
type GridType string

// Grid types.
const (
	GridBasic     GridType = "basic"
	GridDedicated GridType = "dedicated"
)

// Dedicated grid kinds.
var DedicatedKinds = []string{"school", "hospital", "enterprise", "market", "park", "other"}

// Duties a grid can carry at once (多网融合).
var GridDuties = []string{"comprehensive", "urban_management", "emergency", "safety", "environment", "market_supervision"}

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

// WorkerRoles lists the roles a worker may hold on a grid.
var WorkerRoles = []string{RoleGridLeader, RoleFullTime, RolePartTime}

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

// CheckGrid validates a grid's fields; it runs before proposing and again in apply.
func CheckGrid(g *Grid) error {
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
		if !slices.Contains(DedicatedKinds, g.Dedicated) {
			return errs.Invalid("dedicated", "enum", "dedicated kind must be one of %v", DedicatedKinds)
		}
	default:
		return errs.Invalid("type", "enum", "type must be basic or dedicated, got %q", g.Type)
	}
	if len(g.Duties) == 0 {
		return errs.Invalid("duties", "required", "a grid carries at least one duty")
	}
	for i, d := range g.Duties {
		if !slices.Contains(GridDuties, d) {
			return errs.Invalid(fmt.Sprintf("duties[%d]", i), "enum", "duty must be one of %v", GridDuties)
		}
	}
	return geo.ValidatePolygon("geometry", g.Geometry)
}

// Build makes a checked Grid from the spec and a parsed polygon, with the
// defaults a basic comprehensive grid has.
func (s GridSpec) Build(poly orb.Polygon) (*Grid, error) {
	g := &Grid{Code: s.Code, Name: s.Name, Jurisdiction: s.Jurisdiction, Type: s.Type, Dedicated: s.Dedicated,
		Duties: s.Duties, Geometry: poly, Derived: s.Derived}
	if g.Type == "" {
		g.Type = GridBasic
	}
	if len(g.Duties) == 0 {
		g.Duties = []string{"comprehensive"}
	}
	return g, CheckGrid(g)
}

// ToGrid parses the spec's GeoJSON and builds a checked Grid.
func (s GridSpec) ToGrid() (*Grid, error) {
	poly, err := geo.ParsePolygon("geometry", s.Geometry)
	if err != nil {
		return nil, err
	}
	return s.Build(poly)
}

// CheckLngLat checks a WGS-84 point lies in range, naming the bad field.
func CheckLngLat(lng, lat float64) error {
	if !(lng >= -180 && lng <= 180) {
		return errs.Invalid("location.lng", "range", "longitude %g out of range", lng)
	}
	if !(lat >= -90 && lat <= 90) {
		return errs.Invalid("location.lat", "range", "latitude %g out of range", lat)
	}
	return nil
}

// CheckID accepts ids of 1..64 characters from [A-Za-z0-9_.:-].
func CheckID(field, id string) error {
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

// MaxReason bounds a reason given for retiring a record, in characters.
const MaxReason = 500

// CheckReason requires a reason in words, as for retiring a grid or a house.
func CheckReason(reason string) error {
	if strings.TrimSpace(reason) == "" {
		return errs.Invalid("reason", "required", "say why")
	}
	if !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > MaxReason {
		return errs.Invalid("reason", "length", "reason must be valid text of at most %d characters", MaxReason)
	}
	return nil
}
