package geo

import (
	"sort"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/tidwall/rtree"
)

type entry struct {
	key  string
	poly orb.Polygon
	rank int     // lower wins where polygons overlap
	area float64 // then the smaller
}

// Index finds which polygon contains a point: an R-tree on bounding boxes,
// then an exact point-in-polygon test on the candidates. Safe for concurrent use.
type Index struct {
	mu   sync.RWMutex
	tree rtree.RTreeG[*entry]
	byK  map[string]*entry
}

// NewIndex returns an empty index.
func NewIndex() *Index { return &Index{byK: map[string]*entry{}} }

func bounds(p orb.Polygon) (min, max [2]float64) {
	b := p.Bound()
	return [2]float64{b.Min[0], b.Min[1]}, [2]float64{b.Max[0], b.Max[1]}
}

// Put adds or replaces the polygon stored under key.
func (x *Index) Put(key string, p orb.Polygon) { x.PutRanked(key, p, 0) }

// PutRanked adds or replaces the polygon stored under key with a rank:
// where polygons overlap, Locate answers the lowest rank, then the
// smallest area (the most specific), then the smallest key.
func (x *Index) PutRanked(key string, p orb.Polygon, rank int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(key)
	e := &entry{key: key, poly: p, rank: rank, area: planar.Area(p)}
	mn, mx := bounds(p)
	x.tree.Insert(mn, mx, e)
	x.byK[key] = e
}

// Remove drops key; a missing key is not an error.
func (x *Index) Remove(key string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(key)
}

func (x *Index) removeLocked(key string) {
	if e, ok := x.byK[key]; ok {
		mn, mx := bounds(e.poly)
		x.tree.Delete(mn, mx, e)
		delete(x.byK, key)
	}
}

// Len returns how many polygons are indexed.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.byK)
}

// Locate returns the key of the polygon containing pt. Where polygons
// overlap the lowest rank wins, then the smallest area, then the smallest
// key, so the answer never depends on insertion order.
func (x *Index) Locate(pt orb.Point) (string, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var best *entry
	x.tree.Search([2]float64(pt), [2]float64(pt), func(_, _ [2]float64, e *entry) bool {
		if (best == nil || e.before(best)) && planar.PolygonContains(e.poly, pt) {
			best = e
		}
		return true
	})
	if best == nil {
		return "", false
	}
	return best.key, true
}

// before orders entries for Locate.
func (e *entry) before(o *entry) bool {
	if e.rank != o.rank {
		return e.rank < o.rank
	}
	if e.area != o.area {
		return e.area < o.area
	}
	return e.key < o.key
}

// Keys lists every indexed key, sorted.
func (x *Index) Keys() []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	ks := make([]string, 0, len(x.byK))
	for k := range x.byK {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
