package core

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/paulmach/orb"

	"github.com/fengqiao/fengqiao/core/divisions"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// Jurisdictions is the typed API for the administrative tree.
type Jurisdictions struct{ s *Store }

// Load upserts divisions (parents before children) and aliases, in commands
// of at most 2,000 divisions each.
func (j *Jurisdictions) Load(ctx context.Context, ds []divisions.Division, aliases map[string]string) error {
	ctx = withoutKey(ctx)
	for i, d := range ds {
		if err := state.ValidDivision(i, d); err != nil {
			return err
		}
	}
	const chunk = 2000
	for start := 0; start < len(ds) || start == 0; start += chunk {
		end := min(start+chunk, len(ds))
		p := state.LoadPayload{Divisions: ds[start:end]}
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

// LoadSubtree loads a division and everything under it — a city's or a
// province's whole tree, every district and township, whether or not they
// run nodes of their own — with the retired codes that resolve into it.
func (j *Jurisdictions) LoadSubtree(ctx context.Context, code string) error {
	sub, err := divisions.Subtree(code)
	if err != nil {
		return errs.NotFound("jurisdiction", "%v", err)
	}
	return j.Load(withoutKey(ctx), sub, aliasesOf(sub))
}

// aliasesOf is the alias table's part whose current codes are in ds.
func aliasesOf(ds []divisions.Division) map[string]string {
	in := make(map[string]bool, len(ds))
	for _, d := range ds {
		in[d.Code] = true
	}
	out := map[string]string{}
	for old, cur := range divisions.Aliases {
		if in[cur] {
			out[old] = cur
		}
	}
	return out
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
	_, err := j.s.apply(ctx, "jurisdiction.bounds", code, state.BoundsPayload{Code: code, Geometry: g, Derived: derived})
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
	if err := j.Load(ctx, sub, aliasesOf(sub)); err != nil {
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
	var cmds []*state.Command
	add := func(typ, jur string, payload any) error {
		c, err := j.s.command(ctx, typ, jur, payload)
		cmds = append(cmds, c)
		return err
	}
	for _, c := range slices.Sorted(maps.Keys(d.Townships)) {
		if err := add("jurisdiction.bounds", c, state.BoundsPayload{Code: c, Geometry: d.Townships[c], Derived: true}); err != nil {
			return nil, err
		}
	}
	names := map[string]string{}
	for _, v := range villages {
		names[v.Code] = v.Name
		if err := add("jurisdiction.bounds", v.Code, state.BoundsPayload{Code: v.Code, Geometry: orb.MultiPolygon{d.Villages[v.Code]}, Derived: true}); err != nil {
			return nil, err
		}
	}
	for _, g := range d.Grids {
		grid := model.Grid{Code: g.Code, Name: fmt.Sprintf("%s第%s网格", names[g.Village], strings.TrimLeft(g.Code[len(g.Village):], "0")),
			Jurisdiction: g.Village, Type: model.GridBasic, Duties: []string{"comprehensive"}, Derived: true, Geometry: g.Polygon}
		if err := add("grid.create", g.Village, state.GridPayload{Grid: grid}); err != nil {
			return nil, err
		}
	}
	return d, j.s.applyAll(ctx, cmds)
}
