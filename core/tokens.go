package core

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Roles a token can carry (DESIGN.md). Each is scoped to a jurisdiction subtree.
const (
	RoleGridWorker        = "grid_worker"
	RoleCommunityOperator = "community_operator"
	RoleTownshipOperator  = "township_operator"
	RoleCenterAdmin       = "center_admin" // 综治中心
	RoleDepartmentHandler = "department_handler"
	RoleAuditor           = "auditor"
)

// Roles lists every role.
var Roles = []string{RoleGridWorker, RoleCommunityOperator, RoleTownshipOperator, RoleCenterAdmin, RoleDepartmentHandler, RoleAuditor}

// Token is an API credential as stored: the SHA-256 of its secret, never the
// secret itself, so a copy of the state (or a snapshot) grants nothing.
type Token struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Scope     string    `json:"scope"` // jurisdiction code; the token sees this subtree only
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	Revoked   bool      `json:"revoked,omitempty"`
	// ExpiresAt, if set, is when the token stops working; nil never expires.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// MaxTokenTTL bounds the lifetime a token can be issued with.
const MaxTokenTTL = 5 * 366 * 24 * time.Hour

// Expired reports whether the token has stopped working at now.
func (tk *Token) Expired(now time.Time) bool {
	return tk.ExpiresAt != nil && !now.Before(*tk.ExpiresAt)
}

// Tokens is the typed API for API tokens.
type Tokens struct{ s *Store }

func init() {
	handle("token.create", 1, applyTokenCreate)
	handle("token.revoke", 1, applyTokenRevoke)
}

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

func checkToken(tk *Token) error {
	if err := checkID("id", tk.ID); err != nil {
		return err
	}
	if tk.Name == "" || len(tk.Name) > 100 {
		return errs.Invalid("name", "required", "token name must be 1..100 bytes")
	}
	if !slices.Contains(Roles, tk.Role) {
		return errs.Invalid("role", "enum", "role must be one of %v", Roles)
	}
	if len(tk.Hash) != 64 {
		return errs.Invalid("hash", "format", "token hash must be 64 hex characters")
	}
	return nil
}

func applyTokenCreate(t *txn, c *Command, tk *Token) (any, error) {
	if err := checkToken(tk); err != nil {
		return nil, err
	}
	if _, err := loadIn(t, c, bJur, tk.Scope, "scope", "jurisdiction", jurPlace); err != nil {
		return nil, err
	}
	if err := t.requireAbsent(bToken, []byte(tk.ID), "id", "token"); err != nil {
		return nil, err
	}
	if err := t.requireAbsent(bTokenHash, []byte(tk.Hash), "hash", "token hash"); err != nil {
		return nil, err
	}
	if tk.Expired(c.At) {
		return nil, errs.Invalid("expires_at", "future", "a token must expire after it is issued")
	}
	tk.CreatedAt, tk.CreatedBy, tk.Revoked = c.At, c.Actor, false
	t.effect(func(e *Engine) { e.tokens.invalidate() })
	if err := t.b(bTokenHash).Put([]byte(tk.Hash), []byte(tk.ID)); err != nil {
		return nil, err
	}
	if err := t.put(bTokenScope, tokenScopeKey(tk)); err != nil {
		return nil, err
	}
	return tk, t.putRecord(bToken, []byte(tk.ID), tk)
}

// tokenScopeKey places a token in the token-by-scope index, so an admin's
// listing reads the tokens of its own subtree only. A token's scope never
// changes.
func tokenScopeKey(tk *Token) []byte { return key(tk.Scope, tk.ID) }

type revokePayload struct {
	ID string `json:"id"`
}

func applyTokenRevoke(t *txn, c *Command, p *revokePayload) (any, error) {
	tk, err := loadIn(t, c, bToken, p.ID, "id", "token", func(tk *Token) string { return tk.Scope })
	if err != nil {
		return nil, err
	}
	if tk.Revoked {
		return nil, errs.Conflict("id", "revoked", "token %s is already revoked", p.ID)
	}
	tk.Revoked = true
	t.effect(func(e *Engine) { e.tokens.invalidate() })
	if err := t.del(bTokenHash, []byte(tk.Hash)); err != nil {
		return nil, err
	}
	return tk, t.putRecord(bToken, []byte(tk.ID), tk)
}

// NewSecret returns a fresh token secret: "fq_" and 32 random bytes in base32.
func NewSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "fq_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// Create issues a token and returns it with its secret, which is shown once
// and stored only as a hash. secret may be given (dev mode's FENGQIAO_TOKEN);
// "" makes a fresh one. The token never expires; see CreateExpiring.
func (ts *Tokens) Create(ctx context.Context, name, role, scope, secret string) (*Token, string, error) {
	return ts.create(ctx, name, role, scope, secret, 0)
}

// CreateExpiring issues a token with a fresh secret that stops working ttl
// (up to MaxTokenTTL) after it is issued.
func (ts *Tokens) CreateExpiring(ctx context.Context, name, role, scope string, ttl time.Duration) (*Token, string, error) {
	if ttl <= 0 || ttl > MaxTokenTTL {
		return nil, "", errs.Invalid("ttl", "range", "a token's lifetime must be between 1s and %s", MaxTokenTTL)
	}
	return ts.create(ctx, name, role, scope, "", ttl)
}

func (ts *Tokens) create(ctx context.Context, name, role, scope, secret string, ttl time.Duration) (*Token, string, error) {
	if secret == "" {
		secret = NewSecret()
	}
	if len(secret) < 16 {
		return nil, "", errs.Invalid("secret", "length", "a token secret needs at least 16 characters")
	}
	cur, err := ts.s.Jurisdictions.Resolve(scope)
	if err != nil {
		return nil, "", errs.NotFound("scope", "no jurisdiction %s", scope)
	}
	tk := Token{ID: "tok-" + NewID()[:12], Name: name, Role: role, Scope: cur, Hash: hashSecret(secret)}
	if ttl > 0 {
		exp := ts.s.clock().UTC().Add(ttl).Truncate(time.Second)
		tk.ExpiresAt = &exp
	}
	if err := checkToken(&tk); err != nil {
		return nil, "", err
	}
	out, err := applyAs[*Token](ctx, ts.s, "token.create", cur, tk)
	if err != nil {
		return nil, "", err
	}
	return out, secret, nil
}

// Revoke disables a token at once on every replica.
func (ts *Tokens) Revoke(ctx context.Context, id string) error {
	_, err := ts.s.apply(ctx, "token.revoke", "", revokePayload{ID: id})
	return err
}

// Authenticate finds the live token whose secret this is: not revoked and
// not expired by the store's clock.
func (ts *Tokens) Authenticate(secret string) (*Token, error) {
	tk, err := ts.bySecret(secret)
	if err != nil {
		return nil, err
	}
	if tk.Expired(ts.s.clock()) {
		return nil, &errs.FieldError{Kind: errs.ErrForbidden, Field: "authorization", Rule: "expired",
			Msg: "token expired at " + tk.ExpiresAt.Format(time.RFC3339)}
	}
	return tk, nil
}

// bySecret finds the unrevoked token whose secret this is. Such tokens are
// cached in memory until any token changes; expiry is checked on every use.
func (ts *Tokens) bySecret(secret string) (*Token, error) {
	hash := hashSecret(secret)
	cache := &ts.s.engine.tokens
	if tk, ok := cache.get(hash); ok {
		return &tk, nil
	}
	gen := cache.generation()
	var tk *Token
	err := ts.s.engine.View(func(tx *bbolt.Tx) error {
		id := tx.Bucket(bTokenHash).Get([]byte(hash))
		if id == nil {
			return &errs.FieldError{Kind: errs.ErrForbidden, Field: "authorization", Rule: "token", Msg: "unknown or revoked token"}
		}
		tk = &Token{}
		return json.Unmarshal(tx.Bucket(bToken).Get(id), tk)
	})
	if err != nil {
		return nil, err
	}
	cache.put(gen, hash, *tk)
	return tk, nil
}

// List returns the tokens whose scope lies under the jurisdiction code
// under ("" for all), hashes included and secrets never, by scope and then
// id, a page at a time: after is the previous page's next ("" for the first), next is "" on
// the last page, and limit is 1..500 (else 100).
func (ts *Tokens) List(under, after string, limit int) (tokens []Token, next string, err error) {
	return refsPage[Token](ts.s.engine, bTokenScope, bToken, []byte(prefixOf(under)), after, pageLimit(limit, 100, 500))
}

// Get returns one token by id (its hash, never its secret).
func (ts *Tokens) Get(id string) (*Token, error) {
	return lookup[Token](ts.s.engine, bToken, id, "token")
}

// Covers reports whether code (a jurisdiction or grid code) lies in the
// token's scope.
func (tk *Token) Covers(code string) bool { return isUnder(code, tk.Scope) }
