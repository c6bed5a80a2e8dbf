package geo

import (
	"errors"
	"fmt"
	"math/rand"
	"testing"

	"github.com/paulmach/orb"

	"github.com/fengqiao/fengqiao/core/errs"
)

func square(x, y, s float64) orb.Polygon {
	return orb.Polygon{{{x, y}, {x + s, y}, {x + s, y + s}, {x, y + s}, {x, y}}}
}

func TestParseAndValidate(t *testing.T) {
	good := `{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[106,29],[106.01,29],[106.01,29.01],[106,29.01],[106,29]]]}}`
	if _, err := ParsePolygon("geometry", []byte(good)); err != nil {
		t.Fatalf("valid feature rejected: %v", err)
	}
	cases := map[string]struct{ json, rule string }{
		"unclosed":   {`{"type":"Polygon","coordinates":[[[106,29],[106.01,29],[106.01,29.01],[106,29.01]]]}`, "unclosed"},
		"bowtie":     {`{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}`, "self_intersection"},
		"short":      {`{"type":"Polygon","coordinates":[[[0,0],[1,1],[0,0]]]}`, "ring_size"},
		"range":      {`{"type":"Polygon","coordinates":[[[0,0],[200,0],[200,1],[0,1],[0,0]]]}`, "range"},
		"point":      {`{"type":"Point","coordinates":[0,0]}`, "type"},
		"flat":       {`{"type":"Polygon","coordinates":[[[0,0],[1,0],[2,0],[0,0]]]}`, "self_intersection"},
		"hole out":   {`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]],[[2,2],[3,2],[3,3],[2,3],[2,2]]]}`, "hole_outside"},
		"not json":   {`{"type":`, "json"},
		"no geom":    {`{"type":"Feature","geometry":null}`, "required"},
		"multi part": {`{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[2,2],[3,2],[3,3],[2,2]]]]}`, "type"},
	}
	for name, c := range cases {
		_, err := ParsePolygon("geometry", []byte(c.json))
		var fe *errs.FieldError
		if !errors.As(err, &fe) || !errors.Is(err, errs.ErrInvalid) || fe.Rule != c.rule {
			t.Errorf("%s: want rule %q, got %v", name, c.rule, err)
		}
	}
}

func TestWithin(t *testing.T) {
	outer := square(0, 0, 10)
	if !Within(square(0, 0, 5), outer) {
		t.Fatal("touching inner square should be within")
	}
	if Within(square(8, 8, 5), outer) {
		t.Fatal("overhanging square is not within")
	}
	// A concave outer: an L shape; a square spanning the notch has all vertices
	// inside but its edges leave the shape.
	l := orb.Polygon{{{0, 0}, {10, 0}, {10, 4}, {4, 4}, {4, 10}, {0, 10}, {0, 0}}}
	if Within(orb.Polygon{{{2, 2}, {8, 2}, {8, 3}, {3, 3}, {3, 8}, {2, 8}, {2, 2}}}, l) != true {
		t.Fatal("L inside L should be within")
	}
	if Within(square(3, 3, 2), l) {
		t.Fatal("square over the notch is not within")
	}
}

func TestIndexLocate(t *testing.T) {
	x := NewIndex()
	for i := 0; i < 20; i++ {
		for j := 0; j < 20; j++ {
			x.Put(fmt.Sprintf("g%02d%02d", i, j), square(float64(i), float64(j), 1))
		}
	}
	rng := rand.New(rand.NewSource(1))
	for k := 0; k < 1000; k++ {
		px, py := rng.Float64()*20, rng.Float64()*20
		got, ok := x.Locate(orb.Point{px, py})
		want := fmt.Sprintf("g%02d%02d", int(px), int(py))
		if !ok || got != want {
			t.Fatalf("Locate(%v,%v) = %q, want %q", px, py, got, want)
		}
	}
	if _, ok := x.Locate(orb.Point{-1, -1}); ok {
		t.Fatal("point outside every grid was located")
	}
	x.Remove("g0000")
	if got, ok := x.Locate(orb.Point{0.5, 0.5}); ok {
		t.Fatalf("removed grid still found: %s", got)
	}
	if x.Len() != 399 {
		t.Fatalf("len = %d", x.Len())
	}
}

func FuzzParsePolygon(f *testing.F) {
	f.Add([]byte(`{"type":"Polygon","coordinates":[[[106,29],[106.01,29],[106.01,29.01],[106,29.01],[106,29]]]}`))
	f.Add([]byte(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}}`))
	f.Add([]byte(`{"type":"MultiPolygon","coordinates":[]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolygon("geometry", data)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		if p[0][0] != p[0][len(p[0])-1] {
			t.Fatal("accepted an unclosed ring")
		}
	})
}
