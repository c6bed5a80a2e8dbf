package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

type tokenKey struct{}

func withToken(ctx context.Context, tk *model.Token) context.Context {
	return context.WithValue(ctx, tokenKey{}, tk)
}

func tokenOf(ctx context.Context) *model.Token {
	tk, _ := ctx.Value(tokenKey{}).(*model.Token)
	return tk
}

// OTPHeader carries an administrator's TOTP code.
const OTPHeader = "X-Fengqiao-OTP"

// credential is the secret a request presents: a bearer token, or for
// Open311 clients an api_key in the query or the form.
func credential(r *http.Request) (string, bool) {
	secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok && strings.HasPrefix(r.URL.Path, "/open311/") {
		secret = r.URL.Query().Get("api_key")
		if secret == "" && r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(nil, r.Body, MaxBody)
			r.ParseForm()
			secret = r.PostForm.Get("api_key")
		}
		ok = secret != ""
	}
	return secret, ok && secret != ""
}

// authenticate resolves the request's token and, for an administrator
// outside development mode, its second factor. Refusals are limited per
// client address (lockout.go) and audited; the secret is never logged.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*model.Token, error) {
	secret, ok := credential(r)
	if !ok {
		return nil, &errs.FieldError{Kind: errUnauthenticated, Field: "authorization", Rule: "bearer", Msg: "send Authorization: Bearer <token>"}
	}
	addr := clientAddr(r)
	if until, locked := s.lock.lockedUntil(addr); locked {
		s.onAuth("while_locked")
		w.Header().Set("Retry-After", strconv.Itoa(int(time.Until(until).Seconds())+1))
		return nil, &errs.FieldError{Kind: errLocked, Field: "authorization", Rule: "locked_out",
			Msg: "too many failed authentications from this address; try again later"}
	}
	tk, err := s.check(r, secret)
	if err != nil {
		s.onAuth("failed")
		ev := state.AuditEvent{Kind: state.AuditAuthFailed, Detail: errs.Field(err) + ": " + rule(err)}
		if tk != nil {
			ev.Token, ev.Role = tk.ID, tk.Role // the secret was right, the second factor not
		}
		s.audit(r, ev)
		if s.lock.fail(addr) {
			s.onAuth("locked_out")
			s.audit(r, state.AuditEvent{Kind: state.AuditLockedOut, Detail: "after " + strconv.Itoa(MaxAuthFailures) + " failures"})
			s.log.Warn("client address locked out after repeated failed authentications", "client", addr, "for", LockoutFor.String())
		}
		return nil, err
	}
	return tk, nil
}

// check finds the live token for secret and checks its second factor. On
// a wrong second factor it returns the token too, for the audit.
func (s *Server) check(r *http.Request, secret string) (*model.Token, error) {
	st := s.b.Store()
	tk, err := st.Tokens.Login(r.Context(), secret)
	if fe := (*errs.FieldError)(nil); errors.As(err, &fe) && fe.Rule == "expired" {
		// Only the holder of the secret learns this, and it tells them what to do.
		return nil, &errs.FieldError{Kind: errUnauthenticated, Field: "authorization", Rule: "expired", Msg: fe.Msg + "; ask for a new token"}
	}
	if err != nil {
		return nil, &errs.FieldError{Kind: errUnauthenticated, Field: "authorization", Rule: "token", Msg: "unknown or revoked token"}
	}
	if tk.Role == access.DevRoot && !s.Dev {
		// A development token in a production state (say, restored from a
		// demo's backup) opens nothing.
		return nil, &errs.FieldError{Kind: errUnauthenticated, Field: "authorization", Rule: "dev_only", Msg: "this token works only in development mode"}
	}
	if !s.Dev {
		if err := st.Tokens.CheckSecondFactor(tk, r.Header.Get(OTPHeader)); err != nil {
			fe := (*errs.FieldError)(nil)
			if errors.As(err, &fe) {
				return tk, &errs.FieldError{Kind: errUnauthenticated, Field: "otp", Rule: fe.Rule, Msg: fe.Msg}
			}
			return tk, err
		}
	}
	return tk, nil
}

func (s *Server) onAuth(outcome string) {
	if s.OnAuth != nil {
		s.OnAuth(outcome)
	}
}

// record writes an audit event about request r, with the client address,
// the route pattern and the token the request authenticated with, if any.
// It is written even when the client has gone away.
func (s *Server) record(r *http.Request, ev state.AuditEvent) error {
	ev.Remote, ev.Route = clientAddr(r), r.Pattern
	ctx := context.WithoutCancel(r.Context())
	if tk := tokenOf(ctx); tk != nil {
		ev.Token, ev.Role = tk.ID, tk.Role
	} else {
		ctx = core.WithActor(ctx, "api")
	}
	return s.b.Store().Audit.Record(ctx, ev)
}

// audit is record for a refused request: a failure to write the event is
// logged, never answered, since the refusal stands either way.
func (s *Server) audit(r *http.Request, ev state.AuditEvent) {
	if err := s.record(r, ev); err != nil {
		s.log.Warn("could not write an audit event", "kind", ev.Kind, "err", errs.Field(err))
	}
}

// rule is the rule a field error names, or "" for any other error.
func rule(err error) string {
	if fe := (*errs.FieldError)(nil); errors.As(err, &fe) {
		return fe.Rule
	}
	return ""
}

// authorize checks what the route table says a route needs: the role's
// permission and, for node-wide routes, a scope covering the whole group.
func (s *Server) authorize(tk *model.Token, rt route) error {
	if tk.Role == access.LegacyAuditor {
		return &errs.FieldError{Kind: errs.ErrForbidden, Field: "role", Rule: "split", Msg: "role auditor was split into system_admin, security_admin and audit_admin (三员分立); a center_admin runs fengqiao token split-roles once, and this token then works as audit_admin"}
	}
	if !access.Allows(tk.Role, rt.perm) {
		return &errs.FieldError{Kind: errs.ErrForbidden, Field: "role", Rule: "permission", Msg: "role " + tk.Role + " may not do this (needs " + rt.perm.String() + ")"}
	}
	if rt.wide && !tk.Covers(s.b.Jurisdiction()) {
		return &errs.FieldError{Kind: errs.ErrForbidden, Field: "scope", Rule: "node_wide", Msg: "this needs a token scoped to " + s.b.Jurisdiction() + " or above"}
	}
	return nil
}

func requireAction(tk *model.Token, action string) error {
	if !access.AllowsAction(tk.Role, action) {
		return &errs.FieldError{Kind: errs.ErrForbidden, Field: "action", Rule: "permission", Msg: "role " + tk.Role + " may not " + action}
	}
	return nil
}

// inScope hides what lies outside the token's subtree: it answers 404, so a
// township token cannot even learn that another township's event exists.
func inScope(tk *model.Token, code, field, what, id string) error {
	if code == "" || !tk.Covers(code) {
		return errs.NotFound(field, "%s %s not found", what, id)
	}
	return nil
}

// resolveIn turns a jurisdiction code the caller names into the code in use
// (a retired code resolves to its successor) and checks that one against the
// token's scope. A code's own digits prove nothing: a retired code under one
// township may lead into another. Unknown and out-of-scope codes both read
// as not found. Grid codes (longer than 12 digits) have no aliases.
func (s *Server) resolveIn(tk *model.Token, code, field string) (string, error) {
	if code == "" {
		return "", errs.NotFound(field, "jurisdiction %s not found", code)
	}
	cur := code
	if len(code) <= 12 {
		var err error
		if cur, err = s.b.Store().Jurisdictions.Resolve(code); err != nil {
			return "", errs.NotFound(field, "jurisdiction %s not found", code)
		}
	}
	if !tk.Covers(cur) {
		return "", errs.NotFound(field, "jurisdiction %s not found", code)
	}
	return cur, nil
}

// underParam is the ?jurisdiction= a listing is under: the token's scope by
// default, and never outside it.
func (s *Server) underParam(r *http.Request) (string, error) {
	tk := tokenOf(r.Context())
	under := r.URL.Query().Get("jurisdiction")
	if under == "" {
		return tk.Scope, nil
	}
	return s.resolveIn(tk, under, "jurisdiction")
}
