// Package geo validates GeoJSON (RFC 7946) polygons and finds the polygon
// that contains a point.
//
// Coordinates are WGS-84 longitude/latitude used as planar coordinates, which
// is accurate enough at grid scale (hundreds of metres) and keeps the test for
// containment exact and fast.
package geo

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/fengqiao/fengqiao/core/errs"
)

// MaxVertices bounds a ring so validation stays cheap (the check is quadratic).
const MaxVertices = 4096

// ParsePolygon decodes a GeoJSON Feature, Polygon geometry, or one-part
// MultiPolygon and validates it. field names the input in errors.
func ParsePolygon(field string, data []byte) (orb.Polygon, error) {
	g, err := parseGeometry(field, data)
	if err != nil {
		return nil, err
	}
	var p orb.Polygon
	switch v := g.(type) {
	case orb.Polygon:
		p = v
	case orb.MultiPolygon:
		if len(v) != 1 {
			return nil, errs.Invalid(field, "type", "a grid is one polygon; got a MultiPolygon with %d parts", len(v))
		}
		p = v[0]
	}
	if err := ValidatePolygon(field, p); err != nil {
		return nil, err
	}
	return p, nil
}

// parseGeometry decodes the RFC 7946 geometry types Fengqiao accepts. It
// decodes by hand to avoid orb/geojson's BSON dependency.
func parseGeometry(field string, data []byte) (orb.Geometry, error) {
	var probe struct {
		Type        string          `json:"type"`
		Geometry    json.RawMessage `json:"geometry"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, errs.Invalid(field, "json", "not GeoJSON: %v", err)
	}
	if probe.Type == "Feature" {
		if len(probe.Geometry) == 0 || string(probe.Geometry) == "null" {
			return nil, errs.Invalid(field+".geometry", "required", "the feature has no geometry")
		}
		return parseGeometry(field+".geometry", probe.Geometry)
	}
	switch probe.Type {
	case "Polygon":
		var p orb.Polygon
		if err := json.Unmarshal(probe.Coordinates, &p); err != nil {
			return nil, errs.Invalid(field+".coordinates", "geojson", "bad Polygon coordinates: %v", err)
		}
		return p, nil
	case "MultiPolygon":
		var mp orb.MultiPolygon
		if err := json.Unmarshal(probe.Coordinates, &mp); err != nil {
			return nil, errs.Invalid(field+".coordinates", "geojson", "bad MultiPolygon coordinates: %v", err)
		}
		return mp, nil
	case "":
		return nil, errs.Invalid(field+".type", "required", "GeoJSON object has no type")
	}
	return nil, errs.Invalid(field, "type", "want a Polygon, got %s", probe.Type)
}

// ParseGeometry decodes a Polygon or MultiPolygon (or a Feature holding one)
// without the strict checks; it is for trusted boundary data.
func ParseGeometry(field string, data []byte) (orb.Geometry, error) {
	return parseGeometry(field, data)
}

// ValidatePolygon checks that p is a valid simple polygon: at least one ring,
// every ring closed with four or more positions, coordinates in range, no
// ring crossing itself or another, holes inside the shell, non-zero area.
func ValidatePolygon(field string, p orb.Polygon) error {
	if len(p) == 0 {
		return errs.Invalid(field, "empty", "polygon has no rings")
	}
	for i, r := range p {
		rf := fmt.Sprintf("%s.coordinates[%d]", field, i)
		if len(r) < 4 {
			return errs.Invalid(rf, "ring_size", "a ring needs at least 4 positions, got %d", len(r))
		}
		if len(r) > MaxVertices {
			return errs.Invalid(rf, "ring_size", "a ring may have at most %d positions, got %d", MaxVertices, len(r))
		}
		if r[0] != r[len(r)-1] {
			return errs.Invalid(rf, "unclosed", "ring is not closed: first position %v differs from last %v", r[0], r[len(r)-1])
		}
		for j, pt := range r {
			if math.IsNaN(pt[0]) || math.IsNaN(pt[1]) || pt[0] < -180 || pt[0] > 180 || pt[1] < -90 || pt[1] > 90 {
				return errs.Invalid(fmt.Sprintf("%s[%d]", rf, j), "range", "position %v is not a longitude/latitude", pt)
			}
		}
		if a, b, ok := selfIntersection(r); ok {
			return errs.Invalid(rf, "self_intersection", "ring crosses itself between edges %d and %d", a, b)
		}
		if math.Abs(planar.Area(r)) == 0 {
			return errs.Invalid(rf, "area", "ring has zero area")
		}
		if i > 0 {
			if !planar.RingContains(p[0], r[0]) || ringsCross(p[0], r) {
				return errs.Invalid(rf, "hole_outside", "hole is not inside the outer ring")
			}
		}
	}
	return nil
}

// Within reports whether inner lies inside outer (boundaries may touch).
func Within(inner orb.Polygon, outer orb.Geometry) bool {
	var polys orb.MultiPolygon
	switch o := outer.(type) {
	case orb.Polygon:
		polys = orb.MultiPolygon{o}
	case orb.MultiPolygon:
		polys = o
	default:
		return false
	}
	for _, pt := range inner[0] {
		if !planar.MultiPolygonContains(polys, pt) {
			return false
		}
	}
	for _, p := range polys {
		for _, r := range p {
			if ringsCross(inner[0], r) {
				return false
			}
		}
	}
	return true
}

// Contains reports whether g (Polygon or MultiPolygon) contains pt.
func Contains(g orb.Geometry, pt orb.Point) bool {
	switch v := g.(type) {
	case orb.Polygon:
		return planar.PolygonContains(v, pt)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(v, pt)
	}
	return false
}

// orient is the sign of the turn a→b→c. The explicit conversions round
// each product, so no platform fuses them into one multiply-add: apply
// calls this, and every replica must get the same answer.
func orient(a, b, c orb.Point) float64 {
	return float64((b[0]-a[0])*(c[1]-a[1])) - float64((b[1]-a[1])*(c[0]-a[0]))
}

func onSegment(a, b, p orb.Point) bool {
	return math.Min(a[0], b[0]) <= p[0] && p[0] <= math.Max(a[0], b[0]) &&
		math.Min(a[1], b[1]) <= p[1] && p[1] <= math.Max(a[1], b[1])
}

// segmentsTouch reports any contact between segments ab and cd.
func segmentsTouch(a, b, c, d orb.Point) bool {
	o1, o2, o3, o4 := orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
	if ((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0)) {
		return true
	}
	return (o1 == 0 && onSegment(a, b, c)) || (o2 == 0 && onSegment(a, b, d)) ||
		(o3 == 0 && onSegment(c, d, a)) || (o4 == 0 && onSegment(c, d, b))
}

// segmentsCross reports a proper crossing: the interiors meet at one point.
func segmentsCross(a, b, c, d orb.Point) bool {
	o1, o2, o3, o4 := orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
	return ((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0))
}

// selfIntersection finds two non-adjacent edges of r that touch, or adjacent
// edges that fold back over each other.
func selfIntersection(r orb.Ring) (int, int, bool) {
	n := len(r) - 1 // edges
	for i := 0; i < n; i++ {
		a, b := r[i], r[i+1]
		if a == b {
			return i, i, true // zero-length edge
		}
		for j := i + 1; j < n; j++ {
			c, d := r[j], r[j+1]
			adjacent := j == i+1 || (i == 0 && j == n-1)
			if adjacent {
				// Adjacent edges share one vertex; they may not overlap along a line.
				shared, other := b, d
				far := a
				if i == 0 && j == n-1 {
					shared, other, far = a, c, b
				}
				if orient(far, shared, other) == 0 && onSegment(far, shared, other) || orient(far, shared, other) == 0 && onSegment(shared, other, far) {
					return i, j, true
				}
				continue
			}
			if segmentsTouch(a, b, c, d) {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}

func ringsCross(r1, r2 orb.Ring) bool {
	b1, b2 := r1.Bound(), r2.Bound()
	if !b1.Intersects(b2) {
		return false
	}
	for i := 0; i+1 < len(r1); i++ {
		for j := 0; j+1 < len(r2); j++ {
			if segmentsCross(r1[i], r1[i+1], r2[j], r2[j+1]) {
				return true
			}
		}
	}
	return false
}
