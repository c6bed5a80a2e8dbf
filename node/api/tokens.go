package api

import (
	"net/http"

	"github.com/fengqiao/fengqiao/core/errs"
)

// tokenView never carries the hash: it is no use to a caller.
type tokenView struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Role    string `json:"role"`
	Scope   string `json:"scope"`
	Revoked bool   `json:"revoked"`
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	if err := require(tk, permAdmin); err != nil {
		return err
	}
	limit, cursor, err := pageParams(r, "listTokens")
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
		out = append(out, tokenView{t.ID, t.Name, t.Role, t.Scope, t.Revoked})
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out, "next": next})
	return nil
}

// createToken issues a token no wider than the caller's own scope; the
// secret is in this answer only.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	if err := require(tk, permAdmin); err != nil {
		return err
	}
	var in struct {
		Name  string `json:"name"`
		Role  string `json:"role"`
		Scope string `json:"scope"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Scope == "" {
		return errs.Invalid("scope", "required", "scope is required")
	}
	if err := inScope(tk, in.Scope, "scope", "jurisdiction", in.Scope); err != nil {
		return err
	}
	t, secret, err := s.b.Store().Tokens.Create(r.Context(), in.Name, in.Role, in.Scope, "")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": tokenView{t.ID, t.Name, t.Role, t.Scope, false}, "secret": secret})
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	if err := require(tk, permAdmin); err != nil {
		return err
	}
	id := r.PathValue("id")
	target, err := s.b.Store().Tokens.Get(id)
	if err != nil {
		return err
	}
	if err := inScope(tk, target.Scope, "id", "token", id); err != nil {
		return err
	}
	if err := s.b.Store().Tokens.Revoke(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
