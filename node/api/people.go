package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// attention is all a reader who may not see special-population details
// learns of a record (PIPL art. 6, minimum necessary): that the person
// needs attention, and when a visit is due. Category, level, contact
// status and support team are sensitive in themselves.
type attention struct {
	Attention bool      `json:"attention"`
	NextDue   time.Time `json:"next_due"`
}

// personView is a person as a token may see it: its Special field shadows
// the record's when the token may not see the details.
type personView struct {
	*model.Person
	Special any `json:"special,omitempty"`
}

func viewPerson(tk *model.Token, p *model.Person) personView {
	v := personView{Person: p}
	switch {
	case p.Special == nil:
	case access.SeesSpecial(tk.Role, tk.Scope, p.Grid):
		v.Special = p.Special
	default:
		v.Special = attention{Attention: true, NextDue: p.Special.NextDue}
	}
	return v
}

// seesSpecial refuses a token that may not see p's special-population record.
func seesSpecial(tk *model.Token, p *model.Person) error {
	if !access.SeesSpecial(tk.Role, tk.Scope, p.Grid) {
		return &errs.FieldError{Kind: errs.ErrForbidden, Field: "role", Rule: "special", Msg: "role " + tk.Role + " sees only that this person needs attention; special-population records are kept by the roles that may reveal and by the grid workers of the person's grid"}
	}
	return nil
}

func (s *Server) scopedPerson(r *http.Request) (*model.Person, error) {
	id := r.PathValue("id")
	p, err := s.b.Store().People.Get(id)
	if err != nil {
		return nil, err
	}
	return p, inScope(tokenOf(r.Context()), p.Place(), "id", "person", id)
}

// lookupRequest finds a person by ID number: in a body, never a URL, so the
// number stays out of access logs and proxies.
type lookupRequest struct {
	IDNumber string `json:"id_number"`
	Basis    string `json:"basis"`
	Purpose  string `json:"purpose"`
}

// lookupPerson finds a person by ID number through the blind index, for
// the roles that may reveal, with a legal basis and purpose. Every lookup,
// found or not, is an audit record first; a person outside the caller's
// scope answers exactly as no person.
func (s *Server) lookupPerson(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	var in lookupRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := (model.Purpose{Basis: in.Basis, Text: in.Purpose}).Check(); err != nil {
		return err
	}
	if len(in.IDNumber) != 18 {
		return errs.Invalid("id_number", "format", "an ID number is 18 characters")
	}
	p, err := s.b.Store().People.FindByIDNumber(in.IDNumber)
	found := err == nil && tk.Covers(p.Place())
	detail := "basis " + in.Basis + ": not found"
	if found {
		detail = "basis " + in.Basis + ": person " + p.ID
	}
	if aerr := s.record(r, state.AuditEvent{Kind: state.AuditLookup, Token: tk.ID, Role: tk.Role, Detail: detail}); aerr != nil {
		return aerr
	}
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return err
	}
	if !found {
		return errs.NotFound("id_number", "no person with that ID number")
	}
	writeJSON(w, http.StatusOK, viewPerson(tk, p))
	return nil
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
	var ps []*model.Person
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
	tk := tokenOf(r.Context())
	out := make([]personView, 0, len(ps))
	for _, p := range ps {
		out = append(out, viewPerson(tk, p))
	}
	writeJSON(w, http.StatusOK, peoplePage{People: out, Next: next})
	return nil
}

func (s *Server) addPerson(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	var in model.PersonInput
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
	if errors.Is(err, state.ErrRegisteredElsewhere) {
		// An attempt to learn of, or duplicate, a record out of scope.
		s.audit(r, state.AuditEvent{Kind: state.AuditConflict, Detail: "id_number: registered_elsewhere"})
	}
	return writeCreated(w, p, err, s.b.Store().People.Get, func(p *model.Person) string { return "/api/v1/people/" + p.ID })
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
	tk := tokenOf(r.Context())
	q := r.URL.Query()
	switch q.Get("reveal") {
	case "", "false":
		writeJSON(w, http.StatusOK, viewPerson(tk, p))
		return nil
	case "true":
	default:
		return errs.Invalid("reveal", "bool", "reveal must be true or false")
	}
	if err := mayReveal(tk); err != nil {
		return err
	}
	rev, err := s.b.Store().People.Reveal(r.Context(), p.ID, model.Purpose{Basis: q.Get("basis"), Text: q.Get("purpose")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, revealedView{Person: p, Revealed: rev})
	return nil
}

func (s *Server) setSpecial(w http.ResponseWriter, r *http.Request) error {
	var in model.SpecialInput
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
	tk := tokenOf(r.Context())
	if err := seesSpecial(tk, p); err != nil {
		return err
	}
	q := r.URL.Query()
	switch q.Get("reveal") {
	case "", "false":
	case "true":
		// The notes in the clear: roles that may reveal, with a purpose,
		// audited before anything is opened.
		if err := mayReveal(tk); err != nil {
			return err
		}
		rv, next, err := s.b.Store().People.RevealVisits(r.Context(), p.ID, model.Purpose{Basis: q.Get("basis"), Text: q.Get("purpose")}, cursor, limit)
		if err != nil {
			return err
		}
		if rv == nil {
			rv = []model.RevealedVisit{}
		}
		writeJSON(w, http.StatusOK, revealedVisitsPage{Visits: rv, Next: next})
		return nil
	default:
		return errs.Invalid("reveal", "bool", "reveal must be true or false")
	}
	vs, next, err := s.b.Store().People.Visits(p.ID, cursor, limit)
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []model.Visit{}
	}
	writeJSON(w, http.StatusOK, visitsPage{Visits: vs, Next: next})
	return nil
}

func (s *Server) recordVisit(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	var in model.VisitInput
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := s.scopedPerson(r)
	if err != nil {
		return err
	}
	if err := seesSpecial(tk, p); err != nil {
		return err
	}
	v, err := s.b.Store().People.RecordVisit(r.Context(), p.ID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// mayReveal refuses ?reveal=true to a role that may not read sensitive
// details in the clear.
func mayReveal(tk *model.Token) error {
	if !access.Allows(tk.Role, access.Reveal) {
		return &errs.FieldError{Kind: errs.ErrForbidden, Field: "reveal", Rule: "permission", Msg: "role " + tk.Role + " may not read sensitive details"}
	}
	return nil
}

func (s *Server) updatePerson(w http.ResponseWriter, r *http.Request) error {
	var in model.PersonPatch
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := s.scopedPerson(r)
	if err != nil {
		return err
	}
	if p, err = s.b.Store().People.Update(r.Context(), p.ID, in); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewPerson(tokenOf(r.Context()), p))
	return nil
}

// transferPerson moves a resident to another village of this group: the
// caller's scope covers both.
func (s *Server) transferPerson(w http.ResponseWriter, r *http.Request) error {
	var in model.Transfer
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := s.scopedPerson(r)
	if err != nil {
		return err
	}
	if in.Jurisdiction == "" {
		return errs.Invalid("jurisdiction", "required", "name the village/community the person moves to")
	}
	if in.Jurisdiction, err = s.resolveIn(tokenOf(r.Context()), in.Jurisdiction, "jurisdiction"); err != nil {
		return err
	}
	if p, err = s.b.Store().People.Transfer(r.Context(), p.ID, in); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewPerson(tokenOf(r.Context()), p))
	return nil
}
