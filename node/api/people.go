package api

import (
	"net/http"
	"slices"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
)

// revealRoles may read special-population details and ID numbers in the
// clear; every such read is written to the audit chain first.
var revealRoles = []string{core.RoleCenterAdmin, core.RoleTownshipOperator, core.RoleCommunityOperator}

func (s *Server) scopedPerson(r *http.Request) (*core.Person, error) {
	id := r.PathValue("id")
	p, err := s.b.Store().People.Get(id)
	if err != nil {
		return nil, err
	}
	return p, inScope(tokenOf(r.Context()), p.Jurisdiction, "id", "person", id)
}

func (s *Server) listPeople(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	under, err := s.underParam(r)
	if err != nil {
		return err
	}
	limit, cursor, err := pageParams(r, "listPeople")
	if err != nil {
		return err
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	var ps []*core.Person
	var next string
	if q.Get("visits_due_before") != "" {
		before, perr := time.Parse(time.RFC3339, q.Get("visits_due_before"))
		if perr != nil {
			return errs.Invalid("visits_due_before", "time", "visits_due_before must be an RFC 3339 time")
		}
		ps, err = s.b.Store().People.DueVisits(under, before, limit)
	} else {
		ps, next, err = s.b.Store().People.List(under, cursor, limit)
	}
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []*core.Person{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"people": ps, "next": next})
	return nil
}

func (s *Server) addPerson(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	if err := require(tk, permReport); err != nil {
		return err
	}
	var in core.PersonInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Jurisdiction == "" {
		return errs.Invalid("jurisdiction", "required", "name the village/community the person lives in")
	}
	if _, err := s.resolveIn(tk, in.Jurisdiction, "jurisdiction"); err != nil {
		return err
	}
	p, err := s.b.Store().People.Add(r.Context(), in)
	return writeCreated(w, p, err, s.b.Store().People.Get, func(p *core.Person) string { return "/api/v1/people/" + p.ID })
}

// getPerson answers masked by default. ?reveal=true&purpose=… decrypts the
// name, ID number and special-population details for permitted roles, after
// recording the read in the audit chain.
func (s *Server) getPerson(w http.ResponseWriter, r *http.Request) error {
	if err := s.consistent(r); err != nil {
		return err
	}
	p, err := s.scopedPerson(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	switch q.Get("reveal") {
	case "", "false":
		writeJSON(w, http.StatusOK, p)
		return nil
	case "true":
	default:
		return errs.Invalid("reveal", "bool", "reveal must be true or false")
	}
	tk := tokenOf(r.Context())
	if !slices.Contains(revealRoles, tk.Role) {
		return &errs.FieldError{Kind: errs.ErrForbidden, Field: "reveal", Rule: "permission", Msg: "role " + tk.Role + " may not read sensitive details"}
	}
	rev, err := s.b.Store().People.Reveal(r.Context(), p.ID, q.Get("purpose"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"person": p, "revealed": rev})
	return nil
}

func (s *Server) setSpecial(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	if !slices.Contains(revealRoles, tk.Role) {
		return &errs.FieldError{Kind: errs.ErrForbidden, Field: "role", Rule: "permission", Msg: "role " + tk.Role + " may not keep special-population records"}
	}
	var in core.SpecialInput
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := s.scopedPerson(r)
	if err != nil {
		return err
	}
	p, err = s.b.Store().People.SetSpecial(r.Context(), p.ID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) listVisits(w http.ResponseWriter, r *http.Request) error {
	if err := s.consistent(r); err != nil {
		return err
	}
	limit, cursor, err := pageParams(r, "listVisits")
	if err != nil {
		return err
	}
	p, err := s.scopedPerson(r)
	if err != nil {
		return err
	}
	vs, next, err := s.b.Store().People.Visits(p.ID, cursor, limit)
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []core.Visit{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"visits": vs, "next": next})
	return nil
}

func (s *Server) recordVisit(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	if err := require(tk, permReport); err != nil {
		return err
	}
	var in core.VisitInput
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := s.scopedPerson(r)
	if err != nil {
		return err
	}
	v, err := s.b.Store().People.RecordVisit(r.Context(), p.ID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}
