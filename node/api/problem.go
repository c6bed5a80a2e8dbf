package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/state"
)

// Problem is an RFC 9457 problem detail, with the offending field named.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	Field    string `json:"field,omitempty"`
	Rule     string `json:"rule,omitempty"`
	Leader   string `json:"leader,omitempty"` // where to retry a write or consistent read
}

// errNotLeader is what the backend returns when this node cannot serve the
// request; Leader names the node that can ("" when unknown).
type errNotLeader struct{ leader string }

func (e *errNotLeader) Error() string { return "not the leader" }

// errUnauthenticated marks a missing or unusable bearer token (401).
var errUnauthenticated = errors.New("unauthenticated")

// errLocked marks a client address locked out after failed
// authentications (429).
var errLocked = errors.New("locked out")

// errTooLarge marks a request body over the limit (413).
var errTooLarge = errors.New("request body too large")

// errMethod marks a method the path does not take (405).
var errMethod = errors.New("method not allowed")

func statusOf(err error) (int, string) {
	var nl *errNotLeader
	switch {
	case errors.As(err, &nl):
		return http.StatusServiceUnavailable, "not-leader"
	case errors.Is(err, errUnauthenticated):
		return http.StatusUnauthorized, "unauthenticated"
	case errors.Is(err, errLocked):
		return http.StatusTooManyRequests, "locked-out"
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge, "too-large"
	case errors.Is(err, errMethod):
		return http.StatusMethodNotAllowed, "method-not-allowed"
	case errors.Is(err, errs.ErrKeyReused):
		return http.StatusUnprocessableEntity, "idempotency-key-reused"
	case errors.Is(err, errs.ErrIllegalTransition):
		return http.StatusConflict, "illegal-transition"
	case errors.Is(err, errs.ErrConflict):
		return http.StatusConflict, "conflict"
	case errors.Is(err, errs.ErrNotFound):
		return http.StatusNotFound, "not-found"
	case errors.Is(err, errs.ErrForbidden):
		return http.StatusForbidden, "forbidden"
	case errors.Is(err, errs.ErrInvalid):
		return http.StatusBadRequest, "invalid"
	case errors.Is(err, errs.ErrOutcomeUnknown):
		return http.StatusServiceUnavailable, "outcome-unknown"
	case errors.Is(err, errs.ErrClosed), errors.Is(err, errs.ErrUnavailable):
		return http.StatusServiceUnavailable, "unavailable"
	}
	return http.StatusInternalServerError, "internal"
}

// writeProblem answers with the problem err describes. Internal errors are
// not echoed: their text may hold details meant for the log, not the caller.
func writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	status, kind := statusOf(err)
	if strings.HasPrefix(r.URL.Path, "/open311/") {
		// Open311 clients read the spec's errors, not problem+json.
		detail, field := http.StatusText(status), ""
		var fe *errs.FieldError
		if errors.As(err, &fe) {
			detail, field = fe.Msg, fe.Field
		} else if status != http.StatusInternalServerError {
			detail = err.Error()
		}
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="fengqiao"`)
			status = http.StatusForbidden // the spec's answer to a bad api_key
		}
		writeO311Problem(w, r, status, detail, field)
		return
	}
	p := Problem{Type: "https://fengqiao.dev/problems/" + kind, Title: http.StatusText(status), Status: status, Instance: r.URL.Path}
	var fe *errs.FieldError
	if errors.As(err, &fe) {
		p.Field, p.Rule, p.Detail = fe.Field, fe.Rule, fe.Msg
	} else if status != http.StatusInternalServerError {
		p.Detail = err.Error()
	}
	w.Header().Add("Vary", "Accept-Language")
	if wantsChinese(r) {
		if t, ok := zhTitles[status]; ok {
			p.Title = t
		}
		if p.Detail != "" {
			p.Detail = zhDetail(err, status)
		}
		w.Header().Set("Content-Language", "zh-CN")
	}
	var nl *errNotLeader
	if errors.As(err, &nl) {
		p.Leader = nl.leader
		w.Header().Set("Retry-After", "1")
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fengqiao"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(p)
}

// writeCreated answers a create: 201 with v, or — when err says a retry with
// the same Idempotency-Key already ran — 200 with what the first request
// made, fetched by get.
func writeCreated[T any](w http.ResponseWriter, v T, err error, get func(ref string) (T, error), location func(T) string) error {
	status := http.StatusCreated
	var dup *state.DuplicateError
	if errors.As(err, &dup) {
		v, err = get(dup.Ref)
		status = http.StatusOK
		w.Header().Set("Idempotent-Replayed", "true")
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", location(v))
	writeJSON(w, status, v)
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(inCST(v))
}

func atoiDefault(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	return n, nil
}
