package geo

import (
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// Overlap reports whether the interiors of two simple polygons meet:
// grids that only share a boundary (neighbours) do not overlap. It looks
// only at outer rings; holes are not grid geometry. Edges that cross
// properly overlap; otherwise one ring's vertices and edge midpoints lying
// strictly inside the other (off its boundary) show one polygon inside or
// over the other, and a ring identical to the other's has its interior
// point inside too.
func Overlap(a, b orb.Polygon) bool {
	if len(a) == 0 || len(b) == 0 || !a.Bound().Intersects(b.Bound()) {
		return false
	}
	ra, rb := a[0], b[0]
	if ringsCross(ra, rb) {
		return true
	}
	return probesInside(ra, rb) || probesInside(rb, ra)
}

// probesInside reports whether a vertex, an edge midpoint or the centroid
// of r lies strictly inside other.
func probesInside(r, other orb.Ring) bool {
	for i := 0; i+1 < len(r); i++ {
		mid := orb.Point{(r[i][0] + r[i+1][0]) / 2, (r[i][1] + r[i+1][1]) / 2}
		if strictlyInside(other, r[i]) || strictlyInside(other, mid) {
			return true
		}
	}
	c, _ := planar.CentroidArea(orb.Polygon{r})
	return planar.RingContains(r, c) && strictlyInside(other, c)
}

// strictlyInside reports whether pt lies inside r and on none of its edges.
func strictlyInside(r orb.Ring, pt orb.Point) bool {
	for i := 0; i+1 < len(r); i++ {
		if orient(r[i], r[i+1], pt) == 0 && onSegment(r[i], r[i+1], pt) {
			return false
		}
	}
	return planar.RingContains(r, pt)
}
