package geo

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// BenchmarkLocate100k: point → grid with 100,000 grids (a 316×317 lattice of
// 0.001° squares, about 100 m, over a county-sized area).
func BenchmarkLocate100k(b *testing.B) {
	x := NewIndex()
	const n = 316
	for i := 0; i < n; i++ {
		for j := 0; j < 317; j++ {
			lng, lat := 106.5+float64(i)*0.001, 28.8+float64(j)*0.001
			x.Put(fmt.Sprintf("g%03d%03d", i, j), orb.Polygon{{{lng, lat}, {lng + 0.001, lat}, {lng + 0.001, lat + 0.001}, {lng, lat + 0.001}, {lng, lat}}})
		}
	}
	rng := rand.New(rand.NewSource(1))
	pts := make([]orb.Point, 4096)
	for i := range pts {
		pts[i] = orb.Point{106.5 + rng.Float64()*0.316, 28.8 + rng.Float64()*0.317}
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, ok := x.Locate(pts[i%len(pts)]); !ok {
			b.Fatal("point not located")
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(x.Len()), "grids")
}
