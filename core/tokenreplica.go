package core

import (
	"encoding/json"
	"fmt"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// tokenOut opens a replicated token's secret for the wire (TLS).
func (f *Federation) tokenOut(m model.Message) (json.RawMessage, error) {
	var b state.TokenBody
	if err := json.Unmarshal(m.Body, &b); err != nil {
		return nil, fmt.Errorf("core: outgoing token %d: %w", m.Seq, err)
	}
	if b.SecretSealed == "" {
		return m.Body, nil // a revocation
	}
	secret, err := f.s.keyring().Open(b.SecretSealed, state.TokenSecretAD(b.Token.ID))
	if err != nil {
		return nil, fmt.Errorf("core: outgoing token %s: %w", b.Token.ID, err)
	}
	b.Secret, b.SecretSealed = string(secret), ""
	return json.Marshal(b)
}

// tokenIn hashes a token's secret under this side's index key, as a token
// issued here is, and seals it again for the tiers below; the secret never
// enters the log in the clear.
func (f *Federation) tokenIn(m *model.Message) (json.RawMessage, error) {
	var b state.TokenBody
	if err := state.DecodeBody(m, &b); err != nil {
		return nil, err
	}
	if b.Revoked {
		return m.Body, nil
	}
	if b.SecretSealed != "" || b.Token.Hash != "" || len(b.Secret) < 16 {
		return nil, errs.Invalid("body.secret", "sealed", "a token crosses with its secret open inside TLS, and nothing hashed or sealed")
	}
	var err error
	b.Token.Hash = f.s.Tokens.pepper(b.Secret)
	if b.SecretSealed, err = f.s.keyring().Seal([]byte(b.Secret), state.TokenSecretAD(b.Token.ID)); err != nil {
		return nil, err
	}
	b.Secret = ""
	return json.Marshal(b)
}
