package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

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

// StreamPing is how often a quiet change stream sends a comment, so proxies
// and the browser keep the connection open and a dead one is noticed.
var StreamPing = 15 * time.Second

// streamChanges serves the change feed as server-sent events: one
// "changes" event per page the token may see, its id the feed position, so
// a reconnecting EventSource (Last-Event-ID) or fetch resumes where it
// stopped. The console's queue, map and figures follow it instead of
// polling.
func (s *Server) streamChanges(w http.ResponseWriter, r *http.Request) error {
	var after uint64
	v := r.URL.Query().Get("after")
	if v == "" {
		v = r.Header.Get("Last-Event-ID")
	}
	if v != "" {
		var err error
		if after, err = strconv.ParseUint(v, 10, 64); err != nil {
			return errs.Invalid("after", "number", "after must be a change sequence number")
		}
	} else {
		// No position: start from now.
		_, newest, err := s.b.Store().Changes.Bounds()
		if err != nil {
			return err
		}
		after = newest
	}
	tk := tokenOf(r.Context())
	viewer := core.Viewer{Role: tk.Role, Scope: tk.Scope}
	feed := s.b.Store().Changes
	// A position the retention has passed is refused before the stream
	// starts (409 naming the oldest change held), as the listing does:
	// the client reloads what it shows and streams from now.
	if _, err := feed.Since(after, 1, viewer); err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(msg string) error {
		// Each write gets its own deadline: the server's write timeout is
		// for answers, not for a stream that lasts as long as the page.
		rc.SetWriteDeadline(time.Now().Add(StreamPing + 10*time.Second))
		if _, err := io.WriteString(w, msg); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := send(fmt.Sprintf("retry: 2000\nid: %d\nevent: hello\ndata: {\"after\":%d}\n\n", after, after)); err != nil {
		return nil
	}
	for {
		wait, cancel := context.WithTimeout(r.Context(), StreamPing)
		err := feed.Wait(wait, after)
		cancel()
		if r.Context().Err() != nil {
			return nil // the client went away, or the node stops
		}
		if errors.Is(err, context.DeadlineExceeded) {
			if send(": ping\n\n") != nil {
				return nil
			}
			continue
		}
		if err != nil {
			s.log.Warn("change stream", "err", err)
			return nil
		}
		page, err := feed.Since(after, core.MaxChangePage, viewer)
		if err != nil {
			s.log.Warn("change stream", "err", err)
			return nil
		}
		after = page.Next
		if len(page.Changes) == 0 {
			continue // changes the token may not see
		}
		b, err := json.Marshal(page)
		if err != nil {
			return nil
		}
		if send(fmt.Sprintf("id: %d\nevent: changes\ndata: %s\n\n", after, b)) != nil {
			return nil
		}
	}
}
