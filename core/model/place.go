package model

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
