// Package divisions ships China's administrative divisions (行政区划) and the
// county boundaries Fengqiao's demo uses, from the public data named in
// docs/data.md, and derives township, village and grid polygons from them.
//
// Codes follow GB/T 2260: 6 digits for province, city and county, 9 for
// township (乡镇/街道) and 12 for village (村/社区). The four municipalities'
// placeholder city level (市辖区, 县) is collapsed: their counties hang
// directly under the municipality.
package divisions

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/paulmach/orb"

	"github.com/fengqiao/fengqiao/core/geo"
)

//go:embed data/divisions.csv.gz
var divisionsGz []byte

//go:embed data/boundaries.geojson.gz
var boundariesGz []byte

// Tier is a level of the administrative tree.
type Tier string

// The tiers, top to bottom.
const (
	Province Tier = "province"
	City     Tier = "city"
	County   Tier = "county"
	Township Tier = "township" // 乡镇/街道
	Village  Tier = "village"  // 村/社区
)

// Division is one administrative unit.
type Division struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"`
	Tier   Tier   `json:"tier"`
}

// Aliases maps retired codes to their successors. Sources: the State
// Council's approvals of each change, as reflected in GB/T 2260 updates.
var Aliases = map[string]string{
	"511028": "511083", // 隆昌县 → 隆昌市 (2017)
	"500228": "500155", // 梁平县 → 梁平区 (2016)
	"500232": "500156", // 武隆县 → 武隆区 (2016)
	"510124": "510117", // 郫县 → 郫都区 (2016)
	"510132": "510118", // 新津县 → 新津区 (2020)
	"510122": "510116", // 双流县 → 双流区 (2015)
}

var (
	loadOnce sync.Once
	all      []Division
	loadErr  error
)

// All returns every shipped division, sorted by code: the whole country down
// to townships, and villages for 500110, 500153, 510107 and 511083.
// The slice is shared; do not modify it.
func All() ([]Division, error) {
	loadOnce.Do(func() { all, loadErr = parse() })
	return all, loadErr
}

func parse() ([]Division, error) {
	zr, err := gzip.NewReader(bytes.NewReader(divisionsGz))
	if err != nil {
		return nil, fmt.Errorf("divisions: %w", err)
	}
	r := csv.NewReader(zr)
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil {
		return nil, fmt.Errorf("divisions: header: %w", err)
	}
	out := make([]Division, 0, 46000)
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("divisions: %w", err)
		}
		out = append(out, Division{Code: rec[0], Name: rec[1], Parent: rec[2], Tier: Tier(rec[3])})
	}
	return out, nil
}

// Subtree returns the division with code and everything below it, plus its
// ancestors, so the result is a connected tree rooted at a province.
func Subtree(code string) ([]Division, error) {
	ds, err := All()
	if err != nil {
		return nil, err
	}
	byCode := make(map[string]Division, len(ds))
	for _, d := range ds {
		byCode[d.Code] = d
	}
	root, ok := byCode[code]
	if !ok {
		return nil, fmt.Errorf("divisions: unknown code %s", code)
	}
	keep := map[string]bool{}
	for d := root; ; {
		keep[d.Code] = true
		p, ok := byCode[d.Parent]
		if !ok {
			break
		}
		d = p
	}
	// Children come after parents in code order, so one pass finds descendants.
	in := map[string]bool{code: true}
	var out []Division
	for _, d := range ds {
		if in[d.Parent] {
			in[d.Code] = true
		}
		if keep[d.Code] || in[d.Code] {
			out = append(out, d)
		}
	}
	return out, nil
}

var (
	bOnce sync.Once
	bMap  map[string]orb.MultiPolygon
	bErr  error
)

// Boundaries returns the shipped county boundaries keyed by current code
// (retired codes in the source are resolved through Aliases).
func Boundaries() (map[string]orb.MultiPolygon, error) {
	bOnce.Do(func() {
		zr, err := gzip.NewReader(bytes.NewReader(boundariesGz))
		if err != nil {
			bErr = err
			return
		}
		var fc struct {
			Features []struct {
				ID       string          `json:"id"`
				Geometry json.RawMessage `json:"geometry"`
			} `json:"features"`
		}
		if err := json.NewDecoder(zr).Decode(&fc); err != nil {
			bErr = fmt.Errorf("divisions: boundaries: %w", err)
			return
		}
		bMap = map[string]orb.MultiPolygon{}
		for _, f := range fc.Features {
			g, err := geo.ParseGeometry("boundary", f.Geometry)
			if err != nil {
				bErr = err
				return
			}
			code := f.ID
			if n, ok := Aliases[code]; ok {
				code = n
			}
			bMap[code] = g.(orb.MultiPolygon)
		}
	})
	return bMap, bErr
}
