package api

import (
	"errors"
	"io"
	"net/http"
	"slices"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// attachmentView is an uploaded attachment and how a report refers to it.
type attachmentView struct {
	*model.Attachment
	Ref string `json:"ref"`
}

// uploadAttachment stores the body (a photo or a PDF, at most 10 MiB) and
// answers the reference a report gives in its attachments.
func (s *Server) uploadAttachment(w http.ResponseWriter, r *http.Request) error {
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, model.MaxAttachment))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errTooLarge
		}
		return errs.Invalid("body", "read", "the body could not be read")
	}
	a, err := s.b.Store().Events.Upload(r.Context(), data)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/attachments/"+a.ID)
	writeJSON(w, http.StatusCreated, attachmentView{Attachment: a, Ref: a.Ref()})
	return nil
}

// getAttachment serves an attachment of an event the caller may read: the
// event names it, or it answers as no attachment. The answer is a download
// that no browser runs as a page.
func (s *Server) getAttachment(w http.ResponseWriter, r *http.Request) error {
	if err := s.consistent(r); err != nil {
		return err
	}
	ev, err := s.scopedEvent(r)
	if err != nil {
		return err
	}
	id := r.PathValue("att")
	if !slices.Contains(ev.Attachments, "att:"+id) {
		return errs.NotFound("att", "attachment %s not found", id)
	}
	a, err := s.b.Store().Events.Attachment(id)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", a.Media)
	h.Set("Content-Disposition", "attachment")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, max-age=31536000, immutable") // content-addressed
	h.Set("ETag", `"`+a.ID+`"`)
	w.WriteHeader(http.StatusOK)
	return s.b.Store().Events.WriteAttachment(id, w)
}
