package api

import (
	"net/http"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/state"
)

// Sealing keys never cross the API: these routes count what each generation
// sealed and reseal old values under the answering node's current one.

func (s *Server) sealCensus(w http.ResponseWriter, r *http.Request) error {
	if err := s.consistent(r); err != nil {
		return err
	}
	c, err := s.b.Store().SealedCensus()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// resealRequest is the body of reseal.
type resealRequest struct {
	Max   int    `json:"max"`
	After string `json:"after"`
}

func (s *Server) reseal(w http.ResponseWriter, r *http.Request) error {
	var in resealRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Max < 0 || in.Max > state.MaxResealItems {
		return errs.Invalid("max", "range", "max must be 1 to %d (0: %d)", state.MaxResealItems, state.MaxResealItems)
	}
	// A write, served by any replica: a follower a little behind reads a
	// few values that have changed since, and their swaps are skipped.
	res, err := s.b.Store().Reseal(r.Context(), in.After, in.Max)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
