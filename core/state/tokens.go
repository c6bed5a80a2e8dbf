package state

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/seal"
	"go.etcd.io/bbolt"
)

// HashSecret is the bare SHA-256 tokens were stored under before the pepper.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// TokenDomain separates token hashes from the other blind indexes an index
// key makes.
const TokenDomain = "token"

// validHash accepts a peppered hash (a blind index) or a legacy SHA-256.
func validHash(h string) bool {
	if _, err := seal.BlindGeneration(h); err == nil {
		return true
	}
	_, err := hex.DecodeString(h)
	return len(h) == 64 && err == nil
}

// CheckToken applies the input rules of a token to issue.
func CheckToken(tk *model.Token) error {
	if err := model.CheckID("id", tk.ID); err != nil {
		return err
	}
	if tk.Name == "" || len(tk.Name) > 100 {
		return errs.Invalid("name", "required", "token name must be 1..100 bytes")
	}
	// Stored tokens may still carry the role audit_admin replaced: old log
	// entries that made them must apply as they did. Only the services
	// refuse to issue it (CreateWith).
	if !access.Known(tk.Role) && tk.Role != access.LegacyAuditor {
		return errs.Invalid("role", "enum", "role must be one of %v", access.Roles)
	}
	if !validHash(tk.Hash) {
		return errs.Invalid("hash", "format", "token hash must be a blind index or 64 hex characters")
	}
	return nil
}

func applyTokenCreate(t *txn, c *Command, tk *model.Token) (any, error) {
	if inputRules(c) {
		if err := CheckToken(tk); err != nil {
			return nil, err
		}
	}
	var err error
	if len(tk.Scope) > 12 {
		_, err = loadIn(t, c, bGrid, tk.Scope, "scope", "grid", (*model.Grid).Place)
	} else {
		_, err = loadIn(t, c, bJur, tk.Scope, "scope", "jurisdiction", jurPlace)
	}
	if err != nil {
		return nil, err
	}
	if c.Level >= LevelDaily && c.Type == "token.create" { // not the tokens 三员分立 issues
		if err := t.mayIssue(c, tk.Role); err != nil {
			return nil, err
		}
	}
	if err := t.requireAbsent(BucketToken, []byte(tk.ID), "id", "token"); err != nil {
		return nil, err
	}
	if err := t.requireAbsent(BucketTokenHash, []byte(tk.Hash), "hash", "token hash"); err != nil {
		return nil, err
	}
	if tk.Expired(c.At) {
		return nil, errs.Invalid("expires_at", "future", "a token must expire after it is issued")
	}
	sealed := tk.ReplicaSecret
	tk.ReplicaSecret = ""
	tk.CreatedAt, tk.CreatedBy, tk.Revoked = c.At, c.Actor, false
	if c.Level >= LevelDaily && sealed != "" {
		if err := t.sendTokenDown(c, tk, sealed, false); err != nil {
			return nil, err
		}
	}
	t.effect(func(e *Engine) { e.tokenGen.Add(1) })
	if err := t.b(BucketTokenHash).Put([]byte(tk.Hash), []byte(tk.ID)); err != nil {
		return nil, err
	}
	if err := t.put(BucketTokenScope, tokenScopeKey(tk)); err != nil {
		return nil, err
	}
	return tk, t.putRecord(BucketToken, []byte(tk.ID), tk)
}

// tokenScopeKey places a token in the token-by-scope index, so an admin's
// listing reads the tokens of its own subtree only. A token's scope never
// changes.
func tokenScopeKey(tk *model.Token) []byte { return key(tk.Scope, tk.ID) }

// RevokePayload is the payload of token.revoke.
type RevokePayload struct {
	ID string `json:"id"`
}

func applyTokenRevoke(t *txn, c *Command, p *RevokePayload) (any, error) {
	tk, err := loadIn(t, c, BucketToken, p.ID, "id", "token", func(tk *model.Token) string { return tk.Scope })
	if err != nil {
		return nil, err
	}
	if c.Level >= LevelDaily {
		if err := t.mayIssue(c, tk.Role); err != nil {
			return nil, err
		}
	}
	if tk.Revoked {
		return nil, errs.Conflict("id", "revoked", "token %s is already revoked", p.ID)
	}
	tk.Revoked = true
	t.effect(func(e *Engine) { e.tokenGen.Add(1) })
	if c.Level >= LevelDaily && tk.Origin == "" {
		if err := t.sendTokenDown(c, tk, "", true); err != nil {
			return nil, err
		}
	}
	if err := t.del(BucketTokenHash, []byte(tk.Hash)); err != nil {
		return nil, err
	}
	return tk, t.putRecord(BucketToken, []byte(tk.ID), tk)
}

// NewSecret returns a fresh token secret: "fq_" and 32 random bytes in base32.
func NewSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "fq_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// RehashPayload is the payload of token.rehash.
type RehashPayload struct {
	ID   string `json:"id"`
	From string `json:"from"`
	To   string `json:"to"`
}

func applyTokenRehash(t *txn, c *Command, p *RehashPayload) (any, error) {
	tk, err := load[model.Token](t, BucketToken, p.ID, "id", "token")
	if err != nil {
		return nil, err
	}
	if tk.Revoked || tk.Hash != p.From || !validHash(p.To) {
		return nil, errs.Conflict("id", "changed", "token %s changed since it was read", p.ID)
	}
	if err := t.requireAbsent(BucketTokenHash, []byte(p.To), "to", "token hash"); err != nil {
		return nil, err
	}
	if err := t.del(BucketTokenHash, []byte(p.From)); err != nil {
		return nil, err
	}
	if err := t.b(BucketTokenHash).Put([]byte(p.To), []byte(tk.ID)); err != nil {
		return nil, err
	}
	tk.Hash = p.To
	t.effect(func(e *Engine) { e.tokenGen.Add(1) })
	return nil, t.putRecord(BucketToken, []byte(tk.ID), tk)
}

// List returns the tokens whose scope lies under the jurisdiction code
// under ("" for all), hashes included and secrets never, by scope and then
// id, a page at a time: after is the previous page's next ("" for the first), next is "" on
// the last page, and limit is 1..500 (else 100).
func (eng *Engine) Tokens(under, after string, limit int) (tokens []model.Token, next string, err error) {
	return refsPage[model.Token](eng, BucketTokenScope, BucketToken, []byte(PrefixOf(under)), after, PageLimit(limit, 100, 500))
}

// Get returns one token by id (its hash, never its secret).
func (eng *Engine) Token(id string) (*model.Token, error) {
	return lookup[model.Token](eng, BucketToken, id, "token")
}

// TokenByHash finds the live token stored under one of hashes (one per key
// generation, then the bare SHA-256 of tokens issued before peppering) and
// the hash it was found under.
func (eng *Engine) TokenByHash(hashes []string) (*model.Token, string, error) {
	var tk *model.Token
	var found string
	err := eng.View(func(tx *bbolt.Tx) error {
		for _, h := range hashes {
			if id := tx.Bucket(BucketTokenHash).Get([]byte(h)); id != nil {
				tk, found = &model.Token{}, h
				return json.Unmarshal(tx.Bucket(BucketToken).Get(id), tk)
			}
		}
		return &errs.FieldError{Kind: errs.ErrForbidden, Field: "authorization", Rule: "token", Msg: "unknown or revoked token"}
	})
	return tk, found, err
}

// mayIssue refuses a token of role issued or revoked by a token that holds
// only IssueStaff when role is above its own (a township operator and its
// grid workers). Security administrators, the node and embedding programs
// are not limited here.
func (t *txn) mayIssue(c *Command, role string) error {
	issuer, err := t.actorToken(c)
	if err != nil || issuer == nil || access.Allows(issuer.Role, access.Tokens) || access.MayIssue(issuer.Role, role) {
		return err
	}
	return errs.Forbidden("role", "higher", "a %s issues and revokes only staff tokens (%v) no higher than its own role", issuer.Role, access.StaffRoles)
}
