package membership

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"slices"

	"github.com/hashicorp/memberlist"

	"github.com/fengqiao/fengqiao/core/errs"
)

// GenerateKey returns a new random 32-byte gossip key, base64 encoded (the
// form config files and `fengqiao federation keygen` use).
func GenerateKey() string {
	k := make([]byte, 32)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// ParseKey decodes a base64 gossip key of 16, 24 or 32 bytes (AES-128/192/256).
func ParseKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errs.Invalid("gossip_keys", "base64", "a gossip key must be base64: %v", err)
	}
	if err := memberlist.ValidateKey(k); err != nil {
		return nil, errs.Invalid("gossip_keys", "length", "a gossip key must be 16, 24 or 32 bytes, got %d", len(k))
	}
	return k, nil
}

func newKeyring(keys []string) (*memberlist.Keyring, error) {
	if len(keys) == 0 {
		return nil, errs.Invalid("gossip_keys", "required", "gossip is always encrypted: give at least one key")
	}
	raw := make([][]byte, len(keys))
	for i, s := range keys {
		k, err := ParseKey(s)
		if err != nil {
			return nil, err
		}
		raw[i] = k
	}
	return memberlist.NewKeyring(raw, raw[0])
}

// Rotation is live and local, as with Consul's keyring: install the new key on
// every member, then use it on every member, then remove the old one. A
// member decrypts with any installed key and encrypts with the primary, so
// the pool keeps talking through each step.

// InstallKey adds a key this member accepts (it keeps encrypting with the
// primary).
func (p *Pool) InstallKey(s string) error {
	k, err := ParseKey(s)
	if err != nil {
		return err
	}
	return p.keyring.AddKey(k)
}

// UseKey makes an installed key the primary, which encrypts what this member sends.
func (p *Pool) UseKey(s string) error {
	k, err := ParseKey(s)
	if err != nil {
		return err
	}
	if err := p.keyring.UseKey(k); err != nil {
		return errs.NotFound("gossip_keys", "install the key before using it: %v", err)
	}
	return nil
}

// RemoveKey drops a key; the primary cannot be removed.
func (p *Pool) RemoveKey(s string) error {
	k, err := ParseKey(s)
	if err != nil {
		return err
	}
	keys := p.keyring.GetKeys()
	if bytes.Equal(keys[0], k) {
		return errs.Conflict("gossip_keys", "primary", "the primary key cannot be removed: use another key first")
	}
	if !slices.ContainsFunc(keys, func(x []byte) bool { return bytes.Equal(x, k) }) {
		return errs.NotFound("gossip_keys", "that key is not installed")
	}
	return p.keyring.RemoveKey(k)
}

// Keys lists the installed keys, primary first, base64 encoded.
func (p *Pool) Keys() []string {
	var out []string
	for _, k := range p.keyring.GetKeys() {
		out = append(out, base64.StdEncoding.EncodeToString(k))
	}
	return out
}
