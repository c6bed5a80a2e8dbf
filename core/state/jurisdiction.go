package state

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/fengqiao/fengqiao/core/divisions"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/geo"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/paulmach/orb"
	"go.etcd.io/bbolt"
)

var tierLen = map[divisions.Tier]int{divisions.Province: 6, divisions.City: 6, divisions.County: 6, divisions.Township: 9, divisions.Village: 12}

// ValidDivision applies the input rules of the i-th division of a load.
func ValidDivision(i int, d divisions.Division) error {
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
	if d.Parent != "" && !strings.HasPrefix(d.Code, PrefixOf(d.Parent)) {
		return errs.Invalid(f+".parent", "prefix", "code %s does not lie under parent %s", d.Code, d.Parent)
	}
	return nil
}

// LoadPayload is the payload of jurisdiction.load.
type LoadPayload struct {
	Divisions []divisions.Division `json:"divisions"`
	Aliases   map[string]string    `json:"aliases,omitempty"`
}

func applyJurisdictionLoad(t *txn, c *Command, p *LoadPayload) (any, error) {
	for i, d := range p.Divisions {
		if inputRules(c) {
			if err := ValidDivision(i, d); err != nil {
				return nil, err
			}
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
			case !IsUnder(c.Scope, d.Code):
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

// BoundsPayload is the payload of jurisdiction.bounds.
type BoundsPayload struct {
	Code     string           `json:"code"`
	Geometry orb.MultiPolygon `json:"geometry"`
	Derived  bool             `json:"derived"`
}

func applyJurisdictionBounds(t *txn, c *Command, p *BoundsPayload) (any, error) {
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

// KnownRegion accepts an ID number's region code when it is a shipped or
// retired county code, or lies under a known city. IDs keep the code of
// their first registration, so counties renamed since (under the same city,
// or a municipality's 01/02 districts and counties) still pass. It does not
// depend on what this store has loaded.
func KnownRegion(code string) bool {
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

// Scope turns a jurisdiction code (any tier; retired codes resolve) or a grid
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
	return PrefixOf(cur), nil
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
		pre = PrefixOf(cur)
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
