package core

import (
	"sync"
	"sync/atomic"

	"github.com/paulmach/orb"

	"github.com/fengqiao/fengqiao/core/geo"
	"github.com/fengqiao/fengqiao/core/model"
)

// gridIndex is the Grids service's R-tree of active grids, for point →
// grid on the proposer side (apply never consults it). It is rebuilt from
// the state when the engine's grid generation has moved: after any grid
// change on any replica, and after a restore. Grids change rarely; points
// are located on every report with a location, so a lookup reads the
// current index without a lock and only a rebuild takes one.
type gridIndex struct {
	cur     atomic.Pointer[builtIndex]
	rebuild sync.Mutex
}

// builtIndex is an index and the grid generation it was built at.
type builtIndex struct {
	gen uint64
	idx *geo.Index
}

// gridRank puts a dedicated grid (a school, a hospital) before the basic
// grid around it: a point inside both belongs to the dedicated one.
func gridRank(typ model.GridType) int {
	if typ == model.GridDedicated {
		return 0
	}
	return 1
}

// locate finds the active grid containing the point: the most specific
// where grids overlap.
func (gi *gridIndex) locate(s *Store, lng, lat float64) (string, bool, error) {
	gen := s.engine.GridGeneration()
	b := gi.cur.Load()
	if b == nil || b.gen != gen {
		gi.rebuild.Lock()
		if b = gi.cur.Load(); b == nil || b.gen != gen {
			idx := geo.NewIndex()
			if err := s.engine.ActiveGrids(func(code string, poly orb.Polygon, typ model.GridType) { idx.PutRanked(code, poly, gridRank(typ)) }); err != nil {
				gi.rebuild.Unlock()
				return "", false, err
			}
			b = &builtIndex{gen: gen, idx: idx}
			gi.cur.Store(b)
		}
		gi.rebuild.Unlock()
	}
	code, ok := b.idx.Locate([2]float64{lng, lat})
	return code, ok, nil
}
