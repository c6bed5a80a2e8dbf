package model

import (
	"time"
)

// Token is an API credential as stored: a keyed hash of its secret, never
// the secret itself, so a copy of the state (or a snapshot) grants nothing.
type Token struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	Scope string `json:"scope"` // jurisdiction code; the token sees this subtree only
	// Hash is the HMAC of the secret under an index key of the key file (a
	// pepper: the state alone cannot test a guessed secret), or, for tokens
	// issued before that, its bare SHA-256 until first used.
	Hash string `json:"hash"`
	// TOTPSealed is an administrator's TOTP secret, sealed (secondfactor.go).
	TOTPSealed string    `json:"totp_sealed,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	CreatedBy  string    `json:"created_by"`
	Revoked    bool      `json:"revoked,omitempty"`
	// ExpiresAt, if set, is when the token stops working; nil never expires.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// MaxTokenTTL bounds the lifetime a token can be issued with.
const MaxTokenTTL = 5 * 366 * 24 * time.Hour

// Expired reports whether the token has stopped working at now.
func (tk *Token) Expired(now time.Time) bool {
	return tk.ExpiresAt != nil && !now.Before(*tk.ExpiresAt)
}

// Covers reports whether code (a jurisdiction or grid code) lies in the
// token's scope.
func (tk *Token) Covers(code string) bool { return Under(code, tk.Scope) }
