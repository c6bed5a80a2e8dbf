package core

import (
	"context"
	"time"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// DefaultMaxAdminTTL is how long an administrator's token lives at most,
// unless Options.MaxAdminTTL says otherwise; it is also the lifetime one
// issued without a TTL gets.
const DefaultMaxAdminTTL = 90 * 24 * time.Hour

// Tokens is the typed API for API tokens.
type Tokens struct {
	s     *Store
	cache tokenCache // live tokens by secret hash
}

// pepper hashes a secret under the current index key.
func (ts *Tokens) pepper(secret string) string {
	return ts.s.keyring().BlindIndex(state.TokenDomain, secret)
}

// TokenSpec describes a token to issue.
type TokenSpec struct {
	Name  string // who or what it is for
	Role  string // one of access.Roles
	Scope string // a jurisdiction code (a retired one resolves) or a grid code
	// Secret may be given (a bootstrap token from FENGQIAO_TOKEN); "" makes
	// a fresh one.
	Secret string
	// TTL, if set, is how long the token works after it is issued (up to
	// MaxTokenTTL). An administrator's token (access.Admin) always expires:
	// at most, and by default, after the store's MaxAdminTTL.
	TTL time.Duration
	// TOTPSecret may give an administrator's TOTP secret (base32; a
	// bootstrap token's, which its operator holds); "" makes a fresh one.
	TOTPSecret string
	// Person is who holds the token (a display name) and StaffNo their
	// staff number, both optional: the audit names them.
	Person, StaffNo string
	// Department is a department_handler's department (only theirs).
	Department string
}

// Issued is a new token with its secret and, for an administrator where a
// second factor is required, its TOTP enrollment: shown once.
type Issued struct {
	Token  *model.Token `json:"token"`
	Secret string       `json:"secret"`
	TOTP   *Enrollment  `json:"totp,omitempty"`
}

// Create issues a token and returns it with its secret, which is shown once
// and stored only as a hash. secret may be given (dev mode's FENGQIAO_TOKEN);
// "" makes a fresh one. The token never expires, unless its role is an
// administrator's (see TokenSpec.TTL).
func (ts *Tokens) Create(ctx context.Context, name, role, scope, secret string) (*model.Token, string, error) {
	return ts.createPlain(ctx, TokenSpec{Name: name, Role: role, Scope: scope, Secret: secret})
}

// createPlain issues a token that needs no enrollment to be shown.
func (ts *Tokens) createPlain(ctx context.Context, spec TokenSpec) (*model.Token, string, error) {
	if ts.s.secondFactor && access.Admin(spec.Role) {
		return nil, "", errs.Invalid("role", "second_factor", "a %s token is enrolled in TOTP: issue it with CreateWith, which returns the enrollment", spec.Role)
	}
	is, err := ts.CreateWith(ctx, spec)
	if err != nil {
		return nil, "", err
	}
	return is.Token, is.Secret, nil
}

// CreateExpiring issues a token with a fresh secret that stops working ttl
// (up to MaxTokenTTL) after it is issued.
func (ts *Tokens) CreateExpiring(ctx context.Context, name, role, scope string, ttl time.Duration) (*model.Token, string, error) {
	if ttl <= 0 {
		return nil, "", errs.Invalid("ttl", "range", "a token's lifetime must be between 1s and %s", model.MaxTokenTTL)
	}
	return ts.createPlain(ctx, TokenSpec{Name: name, Role: role, Scope: scope, TTL: ttl})
}

// CreateWith issues the token spec describes and returns it with its
// secret, which is shown once and stored only as a peppered hash, and,
// for an administrator where the store requires a second factor, its TOTP
// enrollment.
func (ts *Tokens) CreateWith(ctx context.Context, spec TokenSpec) (*Issued, error) {
	return ts.issue(ctx, "token.create", spec)
}

// issue prepares the token spec describes and proposes it with command typ.
func (ts *Tokens) issue(ctx context.Context, typ string, spec TokenSpec) (*Issued, error) {
	is, err := ts.prepare(spec)
	if err != nil {
		return nil, err
	}
	if is.Token, err = applyAs[*model.Token](ctx, ts.s, typ, is.Token.Scope, *is.Token); err != nil {
		return nil, err
	}
	return is, nil
}

// prepare checks spec and makes the token it describes, not yet proposed:
// its secret, peppered hash, expiry and, for an administrator where a
// second factor is required, its sealed TOTP secret.
func (ts *Tokens) prepare(spec TokenSpec) (*Issued, error) {
	ttl, secret := spec.TTL, spec.Secret
	if ttl < 0 || ttl > model.MaxTokenTTL {
		return nil, errs.Invalid("ttl", "range", "a token's lifetime must be between 1s and %s", model.MaxTokenTTL)
	}
	if access.Admin(spec.Role) {
		// Administrators' tokens always expire (等保 2.0: bounded sessions).
		switch {
		case ttl == 0:
			ttl = ts.s.maxAdminTTL
		case ttl > ts.s.maxAdminTTL:
			return nil, errs.Invalid("ttl", "range", "a %s token lives at most %s", spec.Role, ts.s.maxAdminTTL)
		}
	}
	if secret == "" {
		secret = state.NewSecret()
	}
	if len(secret) < 16 {
		return nil, errs.Invalid("secret", "length", "a token secret needs at least 16 characters")
	}
	if !access.Known(spec.Role) {
		return nil, errs.Invalid("role", "enum", "role must be one of %v", access.Roles)
	}
	cur, err := ts.scopeCode(spec.Scope)
	if err != nil {
		return nil, err
	}
	if err := model.CheckHolder(spec.Role, spec.Person, spec.StaffNo, spec.Department); err != nil {
		return nil, err
	}
	tk := model.Token{ID: "tok-" + NewID()[:12], Name: spec.Name, Role: spec.Role, Scope: cur, Hash: ts.pepper(secret),
		Person: spec.Person, StaffNo: spec.StaffNo, Department: spec.Department}
	if ttl > 0 {
		exp := ts.s.clock().UTC().Add(ttl).Truncate(time.Second)
		tk.ExpiresAt = &exp
	}
	if err := state.CheckToken(&tk); err != nil {
		return nil, err
	}
	if !access.Admin(spec.Role) && spec.Role != access.DevRoot {
		// For the tiers below, should the group have any (state/tokenreplica.go).
		if tk.ReplicaSecret, err = ts.s.keyring().Seal([]byte(secret), state.TokenSecretAD(tk.ID)); err != nil {
			return nil, err
		}
	}
	var enrolled *Enrollment
	if ts.s.secondFactor && access.Admin(spec.Role) {
		if enrolled, err = ts.enroll(&tk, spec.TOTPSecret); err != nil {
			return nil, err
		}
	}
	return &Issued{Token: &tk, Secret: secret, TOTP: enrolled}, nil
}

// scopeCode is the code a token is scoped to: a jurisdiction (a retired
// code resolves to its successor) or, for a grid worker, one grid.
func (ts *Tokens) scopeCode(scope string) (string, error) {
	if len(scope) > 12 {
		if _, err := ts.s.Grids.Get(scope); err != nil {
			return "", errs.NotFound("scope", "no jurisdiction or grid %s", scope)
		}
		return scope, nil
	}
	cur, err := ts.s.Jurisdictions.Resolve(scope)
	if err != nil {
		return "", errs.NotFound("scope", "no jurisdiction or grid %s", scope)
	}
	return cur, nil
}

// Revoke disables a token at once on every replica.
func (ts *Tokens) Revoke(ctx context.Context, id string) error {
	_, err := ts.s.apply(ctx, "token.revoke", "", state.RevokePayload{ID: id})
	return err
}

// Authenticate finds the live token whose secret this is: not revoked and
// not expired by the store's clock.
func (ts *Tokens) Authenticate(secret string) (*model.Token, error) {
	tk, _, err := ts.live(secret)
	return tk, err
}

// Login is Authenticate for an entry point: a token found under a hash
// other than the current pepper's (a legacy bare SHA-256, or an index key
// since rotated) is moved to it, so no bare hash remains and a retired index
// key takes no token with it. Should the move fail, the token still works
// and moves on a later use.
func (ts *Tokens) Login(ctx context.Context, secret string) (*model.Token, error) {
	tk, current, err := ts.live(secret)
	if err != nil || tk.Hash == current {
		return tk, err
	}
	if _, err := ts.s.apply(ctx, "token.rehash", tk.Scope, state.RehashPayload{ID: tk.ID, From: tk.Hash, To: current}); err != nil {
		ts.s.log.Debug("token not rehashed; it is tried again on its next use", "token", tk.ID, "err", errs.Field(err))
	}
	return tk, nil
}

// live is Authenticate, with the secret's hash under the current pepper.
func (ts *Tokens) live(secret string) (*model.Token, string, error) {
	tk, current, err := ts.bySecret(secret)
	if err != nil {
		return nil, "", err
	}
	if tk.Expired(ts.s.clock()) {
		return nil, "", &errs.FieldError{Kind: errs.ErrForbidden, Field: "authorization", Rule: "expired",
			Msg: "token expired at " + tk.ExpiresAt.Format(time.RFC3339)}
	}
	return tk, current, nil
}

// bySecret finds the unrevoked token whose secret this is: under the
// current index key first, then the older ones and the legacy SHA-256. It
// returns the secret's hash under the current key too. Such tokens are
// cached in memory until any token changes; expiry is checked on every use.
func (ts *Tokens) bySecret(secret string) (*model.Token, string, error) {
	cache := &ts.cache
	current := ts.pepper(secret)
	gen := ts.s.engine.TokenGeneration()
	if tk, ok := cache.get(gen, current); ok {
		return &tk, current, nil
	}
	hashes := append(ts.s.keyring().BlindIndexes(state.TokenDomain, secret), state.HashSecret(secret))
	tk, found, err := ts.s.engine.TokenByHash(hashes)
	if err != nil {
		return nil, "", err
	}
	cache.put(gen, found, *tk)
	return tk, current, nil
}

// List returns the tokens whose scope lies under the jurisdiction code
// under ("" for all), hashes included and secrets never, by scope and then
// id, a page at a time: after is the previous page's next ("" for the first), next is "" on
// the last page, and limit is 1..500 (else 100).
func (ts *Tokens) List(under, after string, limit int) (tokens []model.Token, next string, err error) {
	return ts.s.engine.Tokens(under, after, limit)
}

// Get returns one token by id (its hash, never its secret).
func (ts *Tokens) Get(id string) (*model.Token, error) {
	return ts.s.engine.Token(id)
}
