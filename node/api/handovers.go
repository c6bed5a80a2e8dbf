package api

import (
	"net/http"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// viewHandover answers a handover without the sealed values its subject
// may carry (ciphertext under this node's keys: no use to a caller); the
// fields are omitted when empty.
func viewHandover(h model.Handover) model.Handover {
	h.Subject.NameSealed, h.Subject.IDSealed, h.Subject.DetailsSealed = "", "", ""
	return h
}

type handoversView struct {
	Handovers []model.Handover `json:"handovers"`
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
	out := handoversView{Handovers: []model.Handover{}}
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
