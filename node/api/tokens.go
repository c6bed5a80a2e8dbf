package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// tokenView never carries the hash: it is no use to a caller.
type tokenView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Scope      string     `json:"scope"`
	Revoked    bool       `json:"revoked"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	Person     string     `json:"person,omitempty"`
	StaffNo    string     `json:"staff_no,omitempty"`
	Department string     `json:"department,omitempty"`
	Origin     string     `json:"origin,omitempty"` // the tier above that issued it
}

func viewToken(t *model.Token) tokenView {
	return tokenView{t.ID, t.Name, t.Role, t.Scope, t.Revoked, t.ExpiresAt, t.Person, t.StaffNo, t.Department, t.Origin}
}

// parseTTL reads a lifetime as a Go duration ("720h", "90m") or in whole
// days ("90d"), the unit tokens are usually issued in.
func parseTTL(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, errs.Invalid("ttl", "format", "ttl must be a duration such as 720h or a number of days such as 90d")
		}
		if max := int(model.MaxTokenTTL / (24 * time.Hour)); n > max { // before multiplying, which could wrap
			return 0, errs.Invalid("ttl", "range", "a token's lifetime is at most %d days", max)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errs.Invalid("ttl", "format", "ttl must be a duration such as 720h or a number of days such as 90d")
	}
	return d, nil
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	return s.listTokensOf(w, r, "listTokens", func(*model.Token) bool { return true })
}

// listStaffTokens lists the tokens of the caller's staff in its scope.
func (s *Server) listStaffTokens(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	return s.listTokensOf(w, r, "listStaffTokens", func(t *model.Token) bool { return access.MayIssue(tk.Role, t.Role) })
}

// listTokensOf pages through the tokens under the caller's scope, keeping
// those keep says yes to.
func (s *Server) listTokensOf(w http.ResponseWriter, r *http.Request, op string, keep func(*model.Token) bool) error {
	tk := tokenOf(r.Context())
	limit, cursor, err := pageParams(r, op)
	if err != nil {
		return err
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	page, next, err := s.b.Store().Tokens.List(tk.Scope, cursor, limit)
	if err != nil {
		return err
	}
	out := []tokenView{}
	for _, t := range page {
		if keep(&t) {
			out = append(out, viewToken(&t))
		}
	}
	writeJSON(w, http.StatusOK, tokensPage{Tokens: out, Next: next})
	return nil
}

// createToken issues a token no wider than the caller's own scope; the
// secret is in this answer only.

// createTokenRequest is the body of createToken.
type createTokenRequest struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	Scope string `json:"scope"`
	TTL   string `json:"ttl"` // optional: the token stops working this long after issue
	// Who holds it, as the audit names them, and a department_handler's
	// department.
	Person     string `json:"person,omitempty"`
	StaffNo    string `json:"staff_no,omitempty"`
	Department string `json:"department,omitempty"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	return s.issue(w, r, access.Assignable)
}

// createStaffToken issues a token for the caller's own staff: a role no
// higher than the caller's, within its scope.
func (s *Server) createStaffToken(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	var roles []string
	for _, role := range access.StaffRoles {
		if access.MayIssue(tk.Role, role) {
			roles = append(roles, role)
		}
	}
	return s.issue(w, r, roles)
}

// issue issues the token the body describes, of one of roles.
func (s *Server) issue(w http.ResponseWriter, r *http.Request, roles []string) error {
	tk := tokenOf(r.Context())
	var in createTokenRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Scope == "" {
		return errs.Invalid("scope", "required", "scope is required")
	}
	if !slices.Contains(roles, in.Role) {
		return errs.Invalid("role", "enum", "role must be one of %v", roles)
	}
	scope, err := s.resolveIn(tk, in.Scope, "scope")
	if err != nil {
		return err
	}
	in.Scope = scope
	spec := core.TokenSpec{Name: in.Name, Role: in.Role, Scope: in.Scope, Person: in.Person, StaffNo: in.StaffNo, Department: in.Department}
	if in.TTL != "" {
		if spec.TTL, err = parseTTL(in.TTL); err != nil {
			return err
		}
		if spec.TTL <= 0 {
			return errs.Invalid("ttl", "range", "a token's lifetime must be between 1s and %s", model.MaxTokenTTL)
		}
	}
	is, err := s.b.Store().Tokens.CreateWith(r.Context(), spec)
	if err != nil {
		return err
	}
	// An administrator's TOTP: enrol it in an authenticator now, it is
	// never shown again.
	writeJSON(w, http.StatusCreated, issuedView(is))
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	return s.revoke(w, r, func(*model.Token) bool { return true })
}

// revokeStaffToken revokes one of the caller's staff's tokens; any other
// token answers as no token.
func (s *Server) revokeStaffToken(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	return s.revoke(w, r, func(target *model.Token) bool { return access.MayIssue(tk.Role, target.Role) })
}

// revoke revokes the path's token when it lies in the caller's scope and
// mine says the caller manages it.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request, mine func(*model.Token) bool) error {
	tk := tokenOf(r.Context())
	id := r.PathValue("id")
	target, err := s.b.Store().Tokens.Get(id)
	if err != nil {
		return err
	}
	if err := inScope(tk, target.Scope, "id", "token", id); err != nil {
		return err
	}
	if !mine(target) {
		return errs.NotFound("id", "token %s not found", id)
	}
	if err := s.b.Store().Tokens.Revoke(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// splitRoles is the one-time step that splits the administrative roles of
// a group made before they were split; the secrets are in this answer only.
func (s *Server) splitRoles(w http.ResponseWriter, r *http.Request) error {
	if err := decode(r, &struct{}{}); err != nil { // {}: nothing to choose
		return err
	}
	out, err := s.b.Store().Tokens.SplitRoles(r.Context(), s.b.Jurisdiction())
	if err != nil {
		return err
	}
	issued := []issuedTokenView{}
	for i := range out.Issued {
		issued = append(issued, issuedView(&out.Issued[i]))
	}
	writeJSON(w, http.StatusOK, splitView{Renamed: out.Renamed, Issued: issued})
	return nil
}

// tidyTokens deletes the caller's subtree's tokens that no longer work:
// revoked ones, and those that expired before expired_before (default now).

// tidyTokensRequest is the body of tidyTokens.
type tidyTokensRequest struct {
	ExpiredBefore string `json:"expired_before"` // RFC 3339
}

func (s *Server) tidyTokens(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	var in tidyTokensRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	before := time.Now()
	if in.ExpiredBefore != "" {
		t, err := time.Parse(time.RFC3339, in.ExpiredBefore)
		if err != nil {
			return errs.Invalid("expired_before", "format", "expired_before must be an RFC 3339 time such as 2026-11-01T00:00:00+08:00")
		}
		before = t
	}
	n, err := s.b.Store().Tokens.Tidy(r.Context(), tk.Scope, before)
	if err != nil {
		if errs.Field(err) == "before" {
			err = errs.Invalid("expired_before", "past", "expired_before must not be later than now")
		}
		return err
	}
	writeJSON(w, http.StatusOK, removedView{Removed: n})
	return nil
}
