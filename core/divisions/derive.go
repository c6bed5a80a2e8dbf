package divisions

import (
	"fmt"
	"math"
	"sort"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/fengqiao/fengqiao/core/geo"
)

// DerivedGrid is a grid polygon made by Derive.
type DerivedGrid struct {
	Code    string      // village code + 3-digit serial
	Village string      // the village/community it lies in
	Polygon orb.Polygon // a square cell
}

// Derived holds the polygons Derive made for one county. Every polygon is
// derived, not surveyed: it is labelled so wherever it is shown.
type Derived struct {
	County    string
	Villages  map[string]orb.Polygon      // village code → cell
	Townships map[string]orb.MultiPolygon // township code → its villages' cells
	Grids     []DerivedGrid               // sorted by code
}

// Derive lays a square lattice over the county's real boundary, keeps the
// cells that lie wholly inside it, and hands them out in serpentine order
// (north to south, alternating direction) to the county's villages in code
// order, so each township's villages sit together. Each village cell is cut
// into side×side grids. The result depends only on its inputs.
func Derive(county string, boundary orb.MultiPolygon, villages []Division, side int) (*Derived, error) {
	if len(villages) == 0 {
		return nil, fmt.Errorf("divisions: county %s has no villages to derive", county)
	}
	if side < 1 || side > 9 {
		return nil, fmt.Errorf("divisions: side must be 1..9, got %d", side)
	}
	vs := append([]Division(nil), villages...)
	sort.Slice(vs, func(i, j int) bool { return vs[i].Code < vs[j].Code })
	b := boundary.Bound()
	area := math.Abs(planar.Area(boundary))
	s := math.Sqrt(area / float64(len(vs)) / 2)
	var cells []orb.Polygon
	for tries := 0; tries < 40; tries++ {
		cells = lattice(b, s, boundary)
		if len(cells) >= len(vs) {
			break
		}
		s *= 0.85
	}
	if len(cells) < len(vs) {
		return nil, fmt.Errorf("divisions: county %s: only %d inner cells for %d villages", county, len(cells), len(vs))
	}
	d := &Derived{County: county, Villages: map[string]orb.Polygon{}, Townships: map[string]orb.MultiPolygon{}}
	for i, v := range vs {
		c := cells[i]
		d.Villages[v.Code] = c
		d.Townships[v.Parent] = append(d.Townships[v.Parent], c)
		xs, ys := cuts(c[0][0][0], c[0][2][0], side), cuts(c[0][0][1], c[0][2][1], side)
		n := 0
		for r := 0; r < side; r++ {
			for k := 0; k < side; k++ {
				n++
				x0, x1, y0, y1 := xs[k], xs[k+1], ys[r], ys[r+1]
				d.Grids = append(d.Grids, DerivedGrid{
					Code:    fmt.Sprintf("%s%03d", v.Code, n),
					Village: v.Code,
					Polygon: orb.Polygon{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}},
				})
			}
		}
	}
	return d, nil
}

// cuts splits [a, b] into n parts whose ends are exactly a and b, so the
// grids of a cell never poke out of it by a rounding error.
func cuts(a, b float64, n int) []float64 {
	out := make([]float64, n+1)
	for i := range out {
		out[i] = round6(a + (b-a)*float64(i)/float64(n))
	}
	out[0], out[n] = a, b
	return out
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

func square(x, y, s float64) orb.Polygon {
	x0, y0, x1, y1 := round6(x), round6(y), round6(x+s), round6(y+s)
	return orb.Polygon{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}
}

func lattice(b orb.Bound, s float64, boundary orb.MultiPolygon) []orb.Polygon {
	var out []orb.Polygon
	rows := int(math.Ceil((b.Max[1] - b.Min[1]) / s))
	cols := int(math.Ceil((b.Max[0] - b.Min[0]) / s))
	for r := 0; r < rows; r++ {
		y := b.Max[1] - float64(r+1)*s
		for k := 0; k < cols; k++ {
			col := k
			if r%2 == 1 {
				col = cols - 1 - k
			}
			c := square(b.Min[0]+float64(col)*s, y, s)
			if geo.Within(c, boundary) {
				out = append(out, c)
			}
		}
	}
	return out
}
