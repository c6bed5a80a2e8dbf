package core

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/paulmach/orb"
	"go.etcd.io/bbolt"

	"github.com/fengqiao/fengqiao/core/divisions"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/geo"
	"github.com/fengqiao/fengqiao/core/model"
)

// Jurisdictions is the typed API for the administrative tree.
type Jurisdictions struct{ s *Store }

var tierLen = map[divisions.Tier]int{divisions.Province: 6, divisions.City: 6, divisions.County: 6, divisions.Township: 9, divisions.Village: 12}

func validDivision(i int, d divisions.Division) error {
	f := fmt.Sprintf("divisions[%d]", i)
	n, ok := tierLen[d.Tier]
	if !ok {
		return errs.Invalid(f+".tier", "enum", "unknown tier %q", d.Tier)
	}
	if len(d.Code) != n || strings.Trim(d.Code, "0123456789") != "" {
		return errs.Invalid(f+".code", "format", "%s code must be %d digits, got %q", d.Tier, n, d.Code)
	}
	if d.Name == "" || len(d.Name) > 200 {
		return errs.Invalid(f+".name", "required", "name must be 1..200 bytes")
	}
	if d.Tier != divisions.Province && d.Parent == "" {
		return errs.Invalid(f+".parent", "required", "only a province has no parent")
	}
	if d.Parent != "" && !strings.HasPrefix(d.Code, prefixOf(d.Parent)) {
		return errs.Invalid(f+".parent", "prefix", "code %s does not lie under parent %s", d.Code, d.Parent)
	}
	return nil
}

type loadPayload struct {
	Divisions []divisions.Division `json:"divisions"`
	Aliases   map[string]string    `json:"aliases,omitempty"`
}

func applyJurisdictionLoad(t *txn, c *Command, p *loadPayload) (any, error) {
	for i, d := range p.Divisions {
		if err := validDivision(i, d); err != nil {
			return nil, err
		}
		if d.Parent != "" && t.b(bJur).Get([]byte(d.Parent)) == nil {
			return nil, errs.NotFound(fmt.Sprintf("divisions[%d].parent", i), "parent %s is not loaded", d.Parent)
		}
		var cur model.Jurisdiction
		if _, err := t.getRecord(bJur, []byte(d.Code), &cur); err != nil {
			return nil, err
		}
		if hidden(c, d.Code) {
			// Outside the scope only the ancestors a load carries may
			// appear, and only to be created: what exists stays as it is.
			f := fmt.Sprintf("divisions[%d].code", i)
			switch {
			case !isUnder(c.Scope, d.Code):
				return nil, errs.NotFound(f, "division %s is outside your scope", d.Code)
			case cur.Code == "":
			case cur.Name == d.Name && cur.Parent == d.Parent && cur.Tier == d.Tier:
				continue
			default:
				return nil, errs.Forbidden(f, "scope", "division %s lies above your scope; it cannot be changed", d.Code)
			}
		}
		if cur.Code != "" && cur.Parent != d.Parent {
			t.del(bJurChild, key(cur.Parent, cur.Code))
		}
		j := model.Jurisdiction{Code: d.Code, Name: d.Name, Parent: d.Parent, Tier: d.Tier, HasBounds: cur.HasBounds, Derived: cur.Derived}
		if err := t.putRecord(bJur, []byte(d.Code), j); err != nil {
			return nil, err
		}
		if d.Parent != "" {
			if err := t.put(bJurChild, key(d.Parent, d.Code)); err != nil {
				return nil, err
			}
		}
	}
	for _, old := range slices.Sorted(maps.Keys(p.Aliases)) {
		cur := p.Aliases[old]
		// A retired code and its successor must both lie in the scope: an
		// alias must never lead a code of one subtree into another.
		if t.b(bJur).Get([]byte(cur)) == nil || hidden(c, cur) {
			return nil, errs.NotFound("aliases."+old, "alias target %s is not loaded", cur)
		}
		if hidden(c, old) {
			return nil, errs.NotFound("aliases."+old, "division %s is outside your scope", old)
		}
		if prev := t.b(bJurAlias).Get([]byte(old)); prev != nil && hidden(c, string(prev)) {
			return nil, errs.NotFound("aliases."+old, "division %s is outside your scope", old)
		}
		if err := t.b(bJurAlias).Put([]byte(old), []byte(cur)); err != nil {
			return nil, err
		}
	}
	return len(p.Divisions), nil
}

// jurPlace is a jurisdiction's own code, for scope checks.
func jurPlace(j *model.Jurisdiction) string { return j.Code }

type boundsPayload struct {
	Code     string           `json:"code"`
	Geometry orb.MultiPolygon `json:"geometry"`
	Derived  bool             `json:"derived"`
}

func applyJurisdictionBounds(t *txn, c *Command, p *boundsPayload) (any, error) {
	j, err := loadIn(t, c, bJur, p.Code, "code", "jurisdiction", jurPlace)
	if err != nil {
		return nil, err
	}
	if len(p.Geometry) == 0 {
		return nil, errs.Invalid("geometry", "required", "bounds need at least one polygon")
	}
	raw, _ := json.Marshal(p.Geometry)
	if err := t.b(bJurGeom).Put([]byte(p.Code), raw); err != nil {
		return nil, err
	}
	j.HasBounds, j.Derived = true, p.Derived
	return nil, t.putRecord(bJur, []byte(p.Code), j)
}

// Load upserts divisions (parents before children) and aliases, in commands
// of at most 2,000 divisions each.
func (j *Jurisdictions) Load(ctx context.Context, ds []divisions.Division, aliases map[string]string) error {
	ctx = withoutKey(ctx)
	for i, d := range ds {
		if err := validDivision(i, d); err != nil {
			return err
		}
	}
	const chunk = 2000
	for start := 0; start < len(ds) || start == 0; start += chunk {
		end := min(start+chunk, len(ds))
		p := loadPayload{Divisions: ds[start:end]}
		if end == len(ds) {
			p.Aliases = aliases
		}
		if _, err := j.s.apply(ctx, "jurisdiction.load", "", p); err != nil {
			return err
		}
		if end == len(ds) {
			break
		}
	}
	return nil
}

// LoadAll loads every shipped division (the whole country to townships, and
// the villages shipped) with the alias table.
func (j *Jurisdictions) LoadAll(ctx context.Context) error {
	ds, err := divisions.All()
	if err != nil {
		return err
	}
	return j.Load(ctx, ds, divisions.Aliases)
}

// SetBounds stores a boundary for code; derived marks it as not surveyed.
func (j *Jurisdictions) SetBounds(ctx context.Context, code string, g orb.MultiPolygon, derived bool) error {
	_, err := j.s.apply(ctx, "jurisdiction.bounds", code, boundsPayload{Code: code, Geometry: g, Derived: derived})
	return err
}

// Resolve maps a possibly retired code to the current one (511028 → 511083).
func (j *Jurisdictions) Resolve(code string) (string, error) {
	return j.s.engine.Resolve(code)
}

// Get returns one jurisdiction; a retired code resolves to its successor.
func (j *Jurisdictions) Get(code string) (model.Jurisdiction, error) {
	return j.s.engine.Jurisdiction(code)
}

// Children lists the direct children of code, sorted by code.
func (j *Jurisdictions) Children(code string) ([]model.Jurisdiction, error) {
	return j.s.engine.Children(code)
}

// Ancestors returns the chain from the province down to code's parent.
func (j *Jurisdictions) Ancestors(code string) ([]model.Jurisdiction, error) {
	x, err := j.Get(code)
	if err != nil {
		return nil, err
	}
	var chain []model.Jurisdiction
	for x.Parent != "" {
		if x, err = j.Get(x.Parent); err != nil {
			return nil, err
		}
		chain = append([]model.Jurisdiction{x}, chain...)
	}
	return chain, nil
}

// Search finds jurisdictions whose name contains q, optionally of one tier
// and under one code, at most limit (default 50) in code order.
func (j *Jurisdictions) Search(q string, tier divisions.Tier, under string, limit int) ([]model.Jurisdiction, error) {
	return j.s.engine.SearchJurisdictions(q, tier, under, limit)
}

// scope turns a jurisdiction code (any tier; retired codes resolve) or a grid
// code into the key prefix everything under it shares. "" means everywhere.
// An unknown code is a NotFound error on field.
func (s *Store) scope(field, code string) (string, error) {
	return s.engine.Scope(field, code)
}

// Bounds returns code's stored boundary and whether it was derived.
func (j *Jurisdictions) Bounds(code string) (orb.MultiPolygon, bool, error) {
	return j.s.engine.Bounds(code)
}

// regions is every 6-digit code in the shipped divisions and alias table.
var regions = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	ds, _ := divisions.All()
	for _, d := range ds {
		if len(d.Code) == 6 {
			m[d.Code] = true
		}
	}
	for old := range divisions.Aliases {
		m[old] = true
	}
	return m
})

// knownRegion accepts an ID number's region code when it is a shipped or
// retired county code, or lies under a known city. IDs keep the code of
// their first registration, so counties renamed since (under the same city,
// or a municipality's 01/02 districts and counties) still pass. It does not
// depend on what this store has loaded.
func knownRegion(code string) bool {
	r := regions()
	if r[code] || r[code[:4]+"00"] {
		return true
	}
	switch code[:2] {
	case "11", "12", "31", "50": // municipalities: 市辖区 01, 县 02
		return code[2:4] == "01" || code[2:4] == "02"
	}
	return false
}

// LoadCounty loads a county's branch of the shipped divisions (ancestors,
// townships, villages), its real boundary, and derived township, village and
// grid polygons with side×side grids per village. It is how the examples and
// dev mode seed a store. The derived polygons are labelled as derived.
func (j *Jurisdictions) LoadCounty(ctx context.Context, county string, side int) (*divisions.Derived, error) {
	ctx = withoutKey(ctx)
	sub, err := divisions.Subtree(county)
	if err != nil {
		return nil, errs.NotFound("county", "%v", err)
	}
	aliases := map[string]string{}
	for _, d := range sub {
		for old, cur := range divisions.Aliases {
			if cur == d.Code {
				aliases[old] = cur
			}
		}
	}
	if err := j.Load(ctx, sub, aliases); err != nil {
		return nil, err
	}
	bs, err := divisions.Boundaries()
	if err != nil {
		return nil, err
	}
	b, ok := bs[county]
	if !ok {
		return nil, nil // no boundary shipped: divisions only
	}
	if err := j.SetBounds(ctx, county, b, false); err != nil {
		return nil, err
	}
	var villages []divisions.Division
	for _, d := range sub {
		if d.Tier == divisions.Village {
			villages = append(villages, d)
		}
	}
	if len(villages) == 0 {
		return nil, nil
	}
	d, err := divisions.Derive(county, b, villages, side)
	if err != nil {
		return nil, err
	}
	var cmds []*Command
	add := func(typ, jur string, payload any) error {
		c, err := j.s.command(ctx, typ, jur, payload)
		cmds = append(cmds, c)
		return err
	}
	for _, c := range slices.Sorted(maps.Keys(d.Townships)) {
		if err := add("jurisdiction.bounds", c, boundsPayload{Code: c, Geometry: d.Townships[c], Derived: true}); err != nil {
			return nil, err
		}
	}
	names := map[string]string{}
	for _, v := range villages {
		names[v.Code] = v.Name
		if err := add("jurisdiction.bounds", v.Code, boundsPayload{Code: v.Code, Geometry: orb.MultiPolygon{d.Villages[v.Code]}, Derived: true}); err != nil {
			return nil, err
		}
	}
	for _, g := range d.Grids {
		grid := model.Grid{Code: g.Code, Name: fmt.Sprintf("%s第%s网格", names[g.Village], strings.TrimLeft(g.Code[len(g.Village):], "0")),
			Jurisdiction: g.Village, Type: model.GridBasic, Duties: []string{"comprehensive"}, Derived: true, Geometry: g.Polygon}
		if err := add("grid.create", g.Village, gridPayload{Grid: grid}); err != nil {
			return nil, err
		}
	}
	return d, j.s.applyAll(ctx, cmds)
}

// within reports whether p lies inside the stored bounds of code; unknown bounds pass.
func (t *txn) withinBounds(code string, p orb.Polygon) (bool, error) {
	raw := t.b(bJurGeom).Get([]byte(code))
	if raw == nil {
		return true, nil
	}
	var g orb.MultiPolygon
	if err := json.Unmarshal(raw, &g); err != nil {
		return false, err
	}
	return geo.Within(p, g), nil
}

// scope turns a jurisdiction code (any tier; retired codes resolve) or a grid
// code into the key prefix everything under it shares. "" means everywhere.
// An unknown code is a NotFound error on field.
func (eng *Engine) Scope(field, code string) (string, error) {
	if code == "" {
		return "", nil
	}
	if len(code) > 12 {
		if _, err := eng.Grid(code); err != nil {
			return "", errs.NotFound(field, "no jurisdiction or grid %s", code)
		}
		return code, nil
	}
	cur, err := eng.Resolve(code)
	if err != nil {
		return "", errs.NotFound(field, "no jurisdiction or grid %s", code)
	}
	return prefixOf(cur), nil
}

// Resolve maps a possibly retired code to the current one (511028 → 511083).
func (eng *Engine) Resolve(code string) (string, error) {
	out := code
	err := eng.View(func(tx *bbolt.Tx) error {
		if n := tx.Bucket(bJurAlias).Get([]byte(code)); n != nil {
			out = string(n)
		}
		if tx.Bucket(bJur).Get([]byte(out)) == nil {
			return errs.NotFound("code", "jurisdiction %s not found", code)
		}
		return nil
	})
	return out, err
}

// Get returns one jurisdiction; a retired code resolves to its successor.
func (eng *Engine) Jurisdiction(code string) (model.Jurisdiction, error) {
	var out model.Jurisdiction
	cur, err := eng.Resolve(code)
	if err != nil {
		return out, err
	}
	err = eng.View(func(tx *bbolt.Tx) error {
		return decodeRecord(tx.Bucket(bJur).Get([]byte(cur)), &out)
	})
	return out, err
}

// Children lists the direct children of code, sorted by code.
func (eng *Engine) Children(code string) ([]model.Jurisdiction, error) {
	cur, err := eng.Resolve(code)
	if err != nil {
		return nil, err
	}
	var out []model.Jurisdiction
	err = eng.View(func(tx *bbolt.Tx) (err error) {
		out, err = prefixRefs[model.Jurisdiction](tx, bJurChild, bJur, []byte(cur+"/"), 0, nil)
		return err
	})
	return out, err
}

// Search finds jurisdictions whose name contains q, optionally of one tier
// and under one code, at most limit (default 50) in code order.
func (eng *Engine) SearchJurisdictions(q string, tier divisions.Tier, under string, limit int) ([]model.Jurisdiction, error) {
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	pre := ""
	if under != "" {
		cur, err := eng.Resolve(under)
		if err != nil {
			return nil, err
		}
		pre = prefixOf(cur)
	}
	var out []model.Jurisdiction
	err := eng.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bJur).Cursor()
		for k, v := c.Seek([]byte(pre)); k != nil && strings.HasPrefix(string(k), pre) && len(out) < limit; k, v = c.Next() {
			var x model.Jurisdiction
			if err := decodeRecord(v, &x); err != nil {
				return err
			}
			if (tier == "" || x.Tier == tier) && strings.Contains(x.Name, q) {
				out = append(out, x)
			}
		}
		return nil
	})
	return out, err
}

// Bounds returns code's stored boundary and whether it was derived.
func (eng *Engine) Bounds(code string) (orb.MultiPolygon, bool, error) {
	x, err := eng.Jurisdiction(code)
	if err != nil {
		return nil, false, err
	}
	if !x.HasBounds {
		return nil, false, errs.NotFound("bounds", "no boundary is known for %s", code)
	}
	var g orb.MultiPolygon
	err = eng.View(func(tx *bbolt.Tx) error {
		return json.Unmarshal(tx.Bucket(bJurGeom).Get([]byte(x.Code)), &g)
	})
	return g, x.Derived, err
}
