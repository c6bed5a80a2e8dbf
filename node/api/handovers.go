package api

import (
	"net/http"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// handoverView is a handover without the sealed values its subject may
// carry (ciphertext under this node's keys: no use to a caller).
type handoverView struct {
	ID         string      `json:"id"`
	Direction  string      `json:"direction"`
	Person     string      `json:"person,omitempty"`
	From       string      `json:"from"`
	To         string      `json:"to"`
	Status     string      `json:"status"`
	Note       string      `json:"note,omitempty"`
	OpenedAt   time.Time   `json:"opened_at"`
	Deadline   time.Time   `json:"deadline"`
	AcceptedAt time.Time   `json:"accepted_at,omitzero"`
	AlertEvent string      `json:"alert_event,omitempty"`
	Subject    subjectView `json:"subject"`
}

type subjectView struct {
	NameMasked string `json:"name_masked"`
	IDMasked   string `json:"id_masked"`
	Kind       string `json:"kind,omitempty"`
	Category   string `json:"category,omitempty"`
	Level      int    `json:"level,omitempty"`
}

func viewHandover(h model.Handover) handoverView {
	s := h.Subject
	return handoverView{ID: h.ID, Direction: h.Direction, Person: h.Person, From: h.From, To: h.To, Status: h.Status, Note: h.Note,
		OpenedAt: h.OpenedAt, Deadline: h.Deadline, AcceptedAt: h.AcceptedAt, AlertEvent: h.AlertEvent,
		Subject: subjectView{s.NameMasked, s.IDMasked, s.Kind, s.Category, s.Level}}
}

type handoversView struct {
	Handovers []handoverView `json:"handovers"`
}

// openHandoverRequest is the body of openHandover.
type openHandoverRequest struct {
	Person   string    `json:"person"`
	To       string    `json:"to"`
	Deadline time.Time `json:"deadline"`
	Note     string    `json:"note,omitempty"`
}

// listHandovers answers the group's person handovers (衔接), both ways;
// ?status=pending keeps those waiting for acceptance.
func (s *Server) listHandovers(w http.ResponseWriter, r *http.Request) error {
	status := r.URL.Query().Get("status")
	switch status {
	case "", model.HandoverPending, model.HandoverAccepted:
	default:
		return errs.Invalid("status", "enum", "status must be %s or %s", model.HandoverPending, model.HandoverAccepted)
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	all, err := s.b.Store().Handovers.List()
	if err != nil {
		return err
	}
	out := handoversView{Handovers: []handoverView{}}
	for _, h := range all {
		if status == "" || h.Status == status {
			out.Handovers = append(out.Handovers, viewHandover(h))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// openHandover hands a special-population subject over to another
// jurisdiction of a peer link, to be accepted by the deadline.
func (s *Server) openHandover(w http.ResponseWriter, r *http.Request) error {
	var in openHandoverRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	h, err := s.b.Store().Handovers.Open(r.Context(), in.Person, in.To, in.Deadline, in.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, viewHandover(*h))
	return nil
}

// acceptHandover accepts an incoming handover.
func (s *Server) acceptHandover(w http.ResponseWriter, r *http.Request) error {
	h, err := s.b.Store().Handovers.Accept(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewHandover(*h))
	return nil
}
