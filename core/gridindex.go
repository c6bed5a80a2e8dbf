package core

import (
	"sync"

	"github.com/paulmach/orb"

	"github.com/fengqiao/fengqiao/core/geo"
)

// gridIndex is the Grids service's R-tree of active grids, for point →
// grid on the proposer side (apply never consults it). It is rebuilt from
// the state when the engine's grid generation has moved: after any grid
// change on any replica, and after a restore. Grids change rarely; points
// are located on every report with a location.
type gridIndex struct {
	mu  sync.Mutex
	gen uint64
	idx *geo.Index
}

// locate finds the active grid containing the point.
func (gi *gridIndex) locate(s *Store, lng, lat float64) (string, bool, error) {
	gi.mu.Lock()
	defer gi.mu.Unlock()
	if gen := s.engine.GridGeneration(); gi.idx == nil || gen != gi.gen {
		idx := geo.NewIndex()
		if err := s.engine.ActiveGrids(func(code string, poly orb.Polygon) { idx.Put(code, poly) }); err != nil {
			return "", false, err
		}
		gi.idx, gi.gen = idx, gen
	}
	code, ok := gi.idx.Locate([2]float64{lng, lat})
	return code, ok, nil
}
