package api

import (
	"net/http"
	"strconv"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
)

// listChanges pages through the change feed: what each applied command
// changed, filtered to what the token may see (its scope, and special
// populations only for the roles that see them).
func (s *Server) listChanges(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := limitParam(q, core.MaxChangePage)
	if err != nil {
		return err
	}
	var after uint64
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseUint(v, 10, 64); err != nil {
			return errs.Invalid("after", "number", "after must be a change sequence number")
		}
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	tk := tokenOf(r.Context())
	page, err := s.b.Store().Changes.Since(after, limit, core.Viewer{Role: tk.Role, Scope: tk.Scope})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}
