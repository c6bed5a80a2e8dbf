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
	return orgListing(s, w, r, "listMembers", "members", s.b.Store().Party.Members,
		func(ms []model.Member, next string) any { return partyMembersPage{Members: ms, Next: next} })
}

func (s *Server) listActivities(w http.ResponseWriter, r *http.Request) error {
	return orgListing(s, w, r, "listActivities", "activities", s.b.Store().Party.Activities,
		func(as []model.Activity, next string) any { return partyActivitiesPage{Activities: as, Next: next} })
}

// orgListing answers a page of what an org holds (?org=, ?cursor=,
// ?limit=): an org outside the token's scope reads as missing.
func orgListing[T any](s *Server, w http.ResponseWriter, r *http.Request, op, what string,
	list func(org, after string, limit int) ([]T, string, error), page func([]T, string) any) error {
	org := r.URL.Query().Get("org")
	if org == "" {
		return errs.Invalid("org", "required", "name the org whose %s to list", what)
	}
	limit, cursor, err := pageParams(r, op)
	if err != nil {
		return err
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	if err := s.orgInScope(r, org, "org"); err != nil {
		return err
	}
	items, next, err := list(org, cursor, limit)
	if err != nil {
		return err
	}
	if items == nil {
		items = []T{}
	}
	writeJSON(w, http.StatusOK, page(items, next))
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
