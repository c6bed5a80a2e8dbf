package state

import (
	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// Tokens replicate down the exchange (as Consul's ACL replication copies
// tokens from the primary datacenter): a token issued here, of a role that
// needs no second factor, goes to every child whose subtree its scope
// reaches, and on down; its revocation follows the same way. The secret
// crosses only inside TLS: sealed in the command and the outbox, opened
// just before the wire (Federation.Outgoing), hashed under the receiver's
// own key and sealed again for its children on arrival (Incoming).

// TokenBody is the body of a token message: the token (no hash) and its
// secret, sealed on either side of the wire and open on it; or a
// revocation.
type TokenBody struct {
	Token        model.Token `json:"token"`
	Secret       string      `json:"secret,omitempty"`        // on the wire only
	SecretSealed string      `json:"secret_sealed,omitempty"` // in the sender's and receiver's logs
	Revoked      bool        `json:"revoked,omitempty"`
}

// TokenSecretAD binds a replicated token's sealed secret to the token.
func TokenSecretAD(id string) string { return "token/" + id + "/secret" }

// replicates reports whether tk goes down the exchange.
func replicates(tk *model.Token) bool { return !access.Admin(tk.Role) && tk.Role != access.DevRoot }

// sendTokenDown tells each child whose subtree tk's scope reaches.
func (t *txn) sendTokenDown(c *Command, tk *model.Token, sealed string, revoked bool) error {
	if t.self() == "" || !replicates(tk) {
		return nil
	}
	links, err := prefixValues[model.Link](t.tx, bLink, nil, 0, nil)
	if err != nil {
		return err
	}
	for _, l := range links {
		if l.Relation != model.RelChild || !(IsUnder(l.Peer, tk.Scope) || IsUnder(tk.Scope, l.Peer)) || !l.Allows(model.KindToken) {
			continue
		}
		cp := *tk
		cp.Hash, cp.TOTPSealed, cp.ReplicaSecret = "", "", ""
		body := TokenBody{Token: cp, Revoked: revoked}
		if !revoked {
			body.SecretSealed = sealed
		}
		if err := t.send(c, l.Peer, model.KindToken, body); err != nil {
			return err
		}
	}
	return nil
}

// receiveToken keeps a token issued above, or revokes one, and passes it on
// down.
func receiveToken(t *txn, c *Command, l *model.Link, m *model.Message) error {
	if l.Relation != model.RelParent {
		return errs.Forbidden("kind", "direction", "tokens come from the tier above; %s is a %s", l.Peer, l.Relation)
	}
	var b TokenBody
	if err := DecodeBody(m, &b); err != nil {
		return err
	}
	tk := b.Token
	if err := model.CheckID("body.token.id", tk.ID); err != nil {
		return err
	}
	if tk.Origin == "" {
		tk.Origin = m.Origin
	}
	if b.Revoked {
		var cur model.Token
		if ok, err := t.getRecord(BucketToken, []byte(tk.ID), &cur); err != nil || !ok || cur.Revoked || cur.Origin == "" {
			return err // unknown here, revoked already, or this group's own: nothing to do
		}
		cur.Revoked = true
		t.effect(func(e *Engine) { e.tokenGen.Add(1) })
		if err := t.del(BucketTokenHash, []byte(cur.Hash)); err != nil {
			return err
		}
		if err := t.putRecord(BucketToken, []byte(cur.ID), &cur); err != nil {
			return err
		}
		return t.sendTokenDown(c, &cur, "", true)
	}
	if !validHash(b.Token.Hash) || b.SecretSealed == "" {
		return errs.Invalid("body.token.hash", "format", "a token from above arrives hashed and sealed")
	}
	if !replicates(&tk) || !access.Known(tk.Role) {
		return errs.Forbidden("body.token.role", "replicated", "a %s token does not replicate", tk.Role)
	}
	if t.b(BucketToken).Get([]byte(tk.ID)) != nil || t.b(BucketTokenHash).Get([]byte(tk.Hash)) != nil {
		return nil // had it already
	}
	tk.ReplicaSecret = ""
	t.effect(func(e *Engine) { e.tokenGen.Add(1) })
	if err := t.b(BucketTokenHash).Put([]byte(tk.Hash), []byte(tk.ID)); err != nil {
		return err
	}
	if err := t.put(BucketTokenScope, tokenScopeKey(&tk)); err != nil {
		return err
	}
	if err := t.putRecord(BucketToken, []byte(tk.ID), &tk); err != nil {
		return err
	}
	return t.sendTokenDown(c, &tk, b.SecretSealed, false)
}
