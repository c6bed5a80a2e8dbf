package model

import "strings"

// PlaceOf is the most specific of a jurisdiction and a grid code.
func PlaceOf(jur, grid string) string {
	if grid != "" {
		return grid
	}
	return jur
}

// Place is the grid's own code: a token scoped to the grid, or to any
// jurisdiction above it, covers it.
func (g *Grid) Place() string { return g.Code }

// Place is the most specific code the event lies at: its grid, else its
// jurisdiction.
func (ev *Event) Place() string { return PlaceOf(ev.Jurisdiction, ev.Grid) }

// ScopePrefix is the key prefix every code under code shares: a province's
// two digits, a city's four, otherwise the code itself. Division codes are
// hierarchical (GB/T 2260), and a grid code begins with its village's.
func ScopePrefix(code string) string {
	if len(code) == 6 {
		switch {
		case strings.HasSuffix(code, "0000"):
			return code[:2]
		case strings.HasSuffix(code, "00"):
			return code[:4]
		}
	}
	return code
}

// Under reports whether code (a jurisdiction or grid code) lies in the
// subtree of scope.
func Under(code, scope string) bool {
	p := ScopePrefix(scope)
	return len(code) >= len(p) && code[:len(p)] == p
}
