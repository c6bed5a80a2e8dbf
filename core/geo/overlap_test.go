package geo

import (
	"testing"

	"github.com/paulmach/orb"
)

func TestOverlap(t *testing.T) {
	a := square(0, 0, 10)
	for _, c := range []struct {
		name string
		b    orb.Polygon
		want bool
	}{
		{"neighbour sharing an edge", square(10, 0, 10), false},
		{"neighbour sharing part of an edge", square(10, 5, 10), false},
		{"touching at a corner", square(10, 10, 5), false},
		{"apart", square(20, 20, 5), false},
		{"crossing", square(5, 5, 10), true},
		{"inside", square(2, 2, 3), true},
		{"around", square(-5, -5, 30), true},
		{"identical", square(0, 0, 10), true},
		{"inside, sharing an edge", square(0, 0, 5), true},
		{"a strip along the edge, inside", orb.Polygon{{{0, 0}, {10, 0}, {10, 1}, {0, 1}, {0, 0}}}, true},
	} {
		if got := Overlap(a, c.b); got != c.want {
			t.Errorf("%s: Overlap = %v, want %v", c.name, got, c.want)
		}
		if got := Overlap(c.b, a); got != c.want {
			t.Errorf("%s (swapped): Overlap = %v, want %v", c.name, got, c.want)
		}
	}
}
