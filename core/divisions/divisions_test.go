package divisions

import (
	"testing"

	"github.com/paulmach/orb"

	"github.com/fengqiao/fengqiao/core/geo"
)

func TestShippedData(t *testing.T) {
	ds, err := All()
	if err != nil {
		t.Fatal(err)
	}
	count := map[Tier]int{}
	byCode := map[string]Division{}
	for _, d := range ds {
		count[d.Tier]++
		if _, dup := byCode[d.Code]; dup {
			t.Fatalf("code %s appears twice", d.Code)
		}
		if d.Parent == d.Code {
			t.Fatalf("%s is its own parent", d.Code)
		}
		byCode[d.Code] = d
		if d.Parent != "" {
			if _, ok := byCode[d.Parent]; !ok {
				t.Fatalf("%s %s: parent %s missing or after child", d.Code, d.Name, d.Parent)
			}
		}
	}
	// The source's 2,978 county rows include 东莞, 中山 and 儋州 a second time.
	if count[Township] != 41352 || count[County] != 2975 {
		t.Fatalf("townships %d counties %d, want 41352 and 2975", count[Township], count[County])
	}
	if byCode["500110"].Name != "綦江区" || byCode["500110"].Parent != "500000" {
		t.Fatalf("綦江区 wrong: %+v", byCode["500110"])
	}
	for _, c := range []string{"500110", "500153", "510107", "511083"} {
		n := 0
		for _, d := range ds {
			if d.Tier == Village && d.Code[:6] == c {
				n++
			}
		}
		if n == 0 {
			t.Fatalf("no villages for %s", c)
		}
	}
	for old, cur := range Aliases {
		if _, ok := byCode[cur]; !ok {
			t.Fatalf("alias %s → %s: target unknown", old, cur)
		}
	}
}

func TestBoundariesResolveAliases(t *testing.T) {
	bs, err := Boundaries()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := bs["511083"]; !ok {
		t.Fatal("隆昌 boundary not found under its current code 511083")
	}
	if _, ok := bs["511028"]; ok {
		t.Fatal("retired code 511028 leaked into boundaries")
	}
	// 綦江区's centre lies inside its boundary.
	if !geo.Contains(bs["500110"], orb.Point{106.651417, 29.028091}) {
		t.Fatal("綦江区 boundary does not contain its centre")
	}
}

func TestDeriveIsDeterministicAndInside(t *testing.T) {
	bs, _ := Boundaries()
	sub, err := Subtree("511083")
	if err != nil {
		t.Fatal(err)
	}
	var vs []Division
	for _, d := range sub {
		if d.Tier == Village {
			vs = append(vs, d)
		}
	}
	a, err := Derive("511083", bs["511083"], vs, 2)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Derive("511083", bs["511083"], vs, 2)
	if len(a.Grids) != 4*len(vs) || len(a.Grids) != len(b.Grids) {
		t.Fatalf("grids: %d for %d villages", len(a.Grids), len(vs))
	}
	for i, g := range a.Grids {
		if !g.Polygon.Equal(b.Grids[i].Polygon) || g.Code != b.Grids[i].Code {
			t.Fatalf("derivation not deterministic at %d", i)
		}
		if err := geo.ValidatePolygon("grid", g.Polygon); err != nil {
			t.Fatalf("derived grid %s invalid: %v", g.Code, err)
		}
		if !geo.Within(g.Polygon, bs["511083"]) || !geo.Within(g.Polygon, a.Villages[g.Village]) {
			t.Fatalf("grid %s not inside its county and village", g.Code)
		}
	}
}

func TestDeriveEveryDemoCounty(t *testing.T) {
	bs, _ := Boundaries()
	for _, county := range []string{"500110", "500153", "510107", "511083"} {
		sub, _ := Subtree(county)
		var vs []Division
		for _, d := range sub {
			if d.Tier == Village {
				vs = append(vs, d)
			}
		}
		d, err := Derive(county, bs[county], vs, 2)
		if err != nil {
			t.Fatalf("%s: %v", county, err)
		}
		for _, g := range d.Grids {
			if !geo.Within(g.Polygon, d.Villages[g.Village]) || !geo.Within(g.Polygon, bs[county]) {
				t.Fatalf("%s: grid %s pokes out of its village or county", county, g.Code)
			}
		}
	}
}
