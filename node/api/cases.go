package api

import (
	"net/http"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// Cross-region cases (跨区域互涉案事件) belong to the jurisdiction as a whole,
// so every case route needs a token scoped to it or above; others get 404.
func (s *Server) caseScope(r *http.Request) error {
	return inScope(tokenOf(r.Context()), s.b.Jurisdiction(), "id", "case", r.PathValue("id"))
}

func (s *Server) listCases(w http.ResponseWriter, r *http.Request) error {
	if err := s.caseScope(r); err != nil {
		return err
	}
	limit, cursor, err := pageParams(r, "listCases")
	if err != nil {
		return err
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	cs, next, err := s.b.Store().Cases.List(cursor, limit)
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []model.Case{}
	}
	writeJSON(w, http.StatusOK, casesPage{Cases: cs, Next: next})
	return nil
}

// openCaseRequest is the body of openCase.
type openCaseRequest struct {
	Title        string   `json:"title"`
	Description  string   `json:"description"`
	Participants []string `json:"participants"`
}

func (s *Server) openCase(w http.ResponseWriter, r *http.Request) error {
	if err := s.caseScope(r); err != nil {
		return err
	}
	var in openCaseRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := s.b.Store().Cases.Open(r.Context(), in.Title, in.Description, in.Participants)
	if err != nil {
		return err
	}
	return s.writeCase(w, http.StatusCreated, c.ID)
}

// caseHead is how many timeline entries a case carries in a response; the
// rest come through /entries from entries_next.
const caseHead = 100

// writeCase answers with a case and the head of its timeline.
func (s *Server) writeCase(w http.ResponseWriter, status int, id string) error {
	c, next, err := s.b.Store().Cases.Head(id, caseHead)
	if err != nil {
		return err
	}
	writeJSON(w, status, caseView{c, next})
	return nil
}

func (s *Server) getCase(w http.ResponseWriter, r *http.Request) error {
	if err := s.caseScope(r); err != nil {
		return err
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	return s.writeCase(w, http.StatusOK, r.PathValue("id"))
}

// updateCase changes the status or hands the lead over; both belong to the
// lead, so a co-handler gets 403.

// updateCaseRequest is the body of updateCase.
type updateCaseRequest struct {
	Status string `json:"status"`
	Lead   string `json:"lead"`
}

func (s *Server) updateCase(w http.ResponseWriter, r *http.Request) error {
	if err := s.caseScope(r); err != nil {
		return err
	}
	var in updateCaseRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	id := r.PathValue("id")
	var err error
	switch {
	case in.Status != "" && in.Lead != "":
		return errs.Invalid("lead", "one_of", "change the status or the lead, not both at once")
	case in.Status != "":
		_, err = s.b.Store().Cases.SetStatus(r.Context(), id, in.Status)
	case in.Lead != "":
		_, err = s.b.Store().Cases.HandOver(r.Context(), id, in.Lead)
	default:
		return errs.Invalid("status", "required", "send status or lead")
	}
	if err != nil {
		return err
	}
	return s.writeCase(w, http.StatusOK, id)
}

func (s *Server) listCaseEntries(w http.ResponseWriter, r *http.Request) error {
	if err := s.caseScope(r); err != nil {
		return err
	}
	limit, cursor, err := pageParams(r, "listCaseEntries")
	if err != nil {
		return err
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	es, next, err := s.b.Store().Cases.Entries(r.PathValue("id"), cursor, limit)
	if err != nil {
		return err
	}
	if es == nil {
		es = []model.CaseEntry{}
	}
	writeJSON(w, http.StatusOK, caseEntriesPage{Entries: es, Next: next})
	return nil
}

// addCaseEntryRequest is the body of addCaseEntry.
type addCaseEntryRequest struct {
	Text string `json:"text"`
}

func (s *Server) addCaseEntry(w http.ResponseWriter, r *http.Request) error {
	if err := s.caseScope(r); err != nil {
		return err
	}
	var in addCaseEntryRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	e, err := s.b.Store().Cases.AddEntry(r.Context(), r.PathValue("id"), in.Text)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, e)
	return nil
}
