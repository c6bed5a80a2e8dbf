package api

import (
	"net/http"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// housesPage is one page of houses.
type housesPage struct {
	Houses []*model.House `json:"houses"`
	Next   string         `json:"next"`
}

// houseView is a house with the people who live there, masked.
type houseView struct {
	*model.House
	Residents []personView `json:"residents"`
}

// retireRequest says why a record is taken out of use.
type retireRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) listHouses(w http.ResponseWriter, r *http.Request) error {
	under, err := s.underParam(r)
	if err != nil {
		return err
	}
	limit, cursor, err := pageParams(r, "listHouses")
	if err != nil {
		return err
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	hs, next, err := s.b.Store().Houses.List(under, cursor, limit)
	if err != nil {
		return err
	}
	if hs == nil {
		hs = []*model.House{}
	}
	writeJSON(w, http.StatusOK, housesPage{Houses: hs, Next: next})
	return nil
}

func (s *Server) addHouse(w http.ResponseWriter, r *http.Request) error {
	var in model.House
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Jurisdiction == "" {
		return errs.Invalid("jurisdiction", "required", "name the village/community the house lies in")
	}
	cur, err := s.resolveIn(tokenOf(r.Context()), in.Jurisdiction, "jurisdiction")
	if err != nil {
		return err
	}
	in.Jurisdiction = cur
	h, err := s.b.Store().Houses.Add(r.Context(), in)
	return writeCreated(w, h, err, s.b.Store().Houses.Get, func(h *model.House) string { return "/api/v1/houses/" + h.ID })
}

// scopedHouse loads the house the path names; one outside the caller's
// scope answers as no house.
func (s *Server) scopedHouse(r *http.Request) (*model.House, error) {
	id := r.PathValue("id")
	h, err := s.b.Store().Houses.Get(id)
	if err != nil {
		return nil, err
	}
	return h, inScope(tokenOf(r.Context()), h.Place(), "id", "house", id)
}

func (s *Server) getHouse(w http.ResponseWriter, r *http.Request) error {
	if err := s.consistent(r); err != nil {
		return err
	}
	h, err := s.scopedHouse(r)
	if err != nil {
		return err
	}
	ps, err := s.b.Store().Houses.Residents(h, 500)
	if err != nil {
		return err
	}
	tk := tokenOf(r.Context())
	v := houseView{House: h, Residents: make([]personView, 0, len(ps))}
	for _, p := range ps {
		if tk.Covers(p.Place()) {
			v.Residents = append(v.Residents, viewPerson(tk, p))
		}
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) updateHouse(w http.ResponseWriter, r *http.Request) error {
	var in model.HousePatch
	if err := decode(r, &in); err != nil {
		return err
	}
	h, err := s.scopedHouse(r)
	if err != nil {
		return err
	}
	if h, err = s.b.Store().Houses.Update(r.Context(), h.ID, in); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

func (s *Server) retireHouse(w http.ResponseWriter, r *http.Request) error {
	var in retireRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	h, err := s.scopedHouse(r)
	if err != nil {
		return err
	}
	if h, err = s.b.Store().Houses.Retire(r.Context(), h.ID, in.Reason); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}
