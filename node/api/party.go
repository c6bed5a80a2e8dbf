package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

func (s *Server) listOrgs(w http.ResponseWriter, r *http.Request) error {
	under, err := s.underParam(r)
	if err != nil {
		return err
	}
	limit, cursor, err := pageParams(r, "listOrgs")
	if err != nil {
		return err
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	orgs, next, err := s.b.Store().Party.Orgs(under, cursor, limit)
	if err != nil {
		return err
	}
	if orgs == nil {
		orgs = []model.Org{}
	}
	writeJSON(w, http.StatusOK, orgsPage{Orgs: orgs, Next: next})
	return nil
}

func (s *Server) putOrg(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	var o model.Org
	if err := decode(r, &o); err != nil {
		return err
	}
	if o.Last != nil {
		return errs.Invalid("last", "read_only", "last is kept from activities")
	}
	if _, err := s.resolveIn(tk, o.Jurisdiction, "jurisdiction"); err != nil {
		return err
	}
	out, err := s.b.Store().Party.PutOrg(r.Context(), o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// orgInScope checks an org exists under the token's scope; one outside it is
// as absent as one that does not exist.
func (s *Server) orgInScope(r *http.Request, id, field string) error {
	o, err := s.b.Store().Party.Org(id)
	if errors.Is(err, errs.ErrNotFound) {
		return errs.NotFound(field, "org %s not found", id)
	} else if err != nil {
		return err
	}
	return inScope(tokenOf(r.Context()), o.Jurisdiction, field, "org", id)
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) error {
	org := r.URL.Query().Get("org")
	if org == "" {
		return errs.Invalid("org", "required", "name the org whose members to list")
	}
	limit, cursor, err := pageParams(r, "listMembers")
	if err != nil {
		return err
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	if err := s.orgInScope(r, org, "org"); err != nil {
		return err
	}
	ms, next, err := s.b.Store().Party.Members(org, cursor, limit)
	if err != nil {
		return err
	}
	if ms == nil {
		ms = []model.Member{}
	}
	writeJSON(w, http.StatusOK, partyMembersPage{Members: ms, Next: next})
	return nil
}

func (s *Server) listActivities(w http.ResponseWriter, r *http.Request) error {
	org := r.URL.Query().Get("org")
	if org == "" {
		return errs.Invalid("org", "required", "name the org whose activities to list")
	}
	limit, cursor, err := pageParams(r, "listActivities")
	if err != nil {
		return err
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	if err := s.orgInScope(r, org, "org"); err != nil {
		return err
	}
	as, next, err := s.b.Store().Party.Activities(org, cursor, limit)
	if err != nil {
		return err
	}
	if as == nil {
		as = []model.Activity{}
	}
	writeJSON(w, http.StatusOK, partyActivitiesPage{Activities: as, Next: next})
	return nil
}

func (s *Server) putMember(w http.ResponseWriter, r *http.Request) error {
	var m model.Member
	if err := decode(r, &m); err != nil {
		return err
	}
	if err := s.orgInScope(r, m.Org, "org"); err != nil {
		return err
	}
	out, err := s.b.Store().Party.PutMember(r.Context(), m)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) recordActivity(w http.ResponseWriter, r *http.Request) error {
	var a model.Activity
	if err := decode(r, &a); err != nil {
		return err
	}
	if err := s.orgInScope(r, a.Org, "org"); err != nil {
		return err
	}
	out, err := s.b.Store().Party.RecordActivity(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// coverage reports grids with no branch or group, and orgs behind their
// 三会一课 schedule as of ?as_of= (default now).
func (s *Server) coverage(w http.ResponseWriter, r *http.Request) error {
	under, err := s.underParam(r)
	if err != nil {
		return err
	}
	asOf := time.Now()
	if v := r.URL.Query().Get("as_of"); v != "" {
		if asOf, err = time.Parse(time.DateOnly, v); err != nil {
			return errs.Invalid("as_of", "date", "as_of must be YYYY-MM-DD")
		}
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	st := s.b.Store()
	uncovered, total, err := st.Party.Coverage(under)
	if err != nil {
		return err
	}
	lapses, err := st.Party.Compliance(under, asOf)
	if err != nil {
		return err
	}
	if uncovered == nil {
		uncovered = []string{}
	}
	if lapses == nil {
		lapses = []model.Lapse{}
	}
	writeJSON(w, http.StatusOK, coverageView{Jurisdiction: under, Grids: total, UncoveredGrids: uncovered, BehindSchedule: lapses})
	return nil
}
