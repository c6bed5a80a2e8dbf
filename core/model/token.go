package model

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fengqiao/fengqiao/core/errs"
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
	// Person is the display name of whoever holds the token, and StaffNo
	// their staff number: the audit names them (set at issue).
	Person  string `json:"person,omitempty"`
	StaffNo string `json:"staff_no,omitempty"`
	// Department is a department_handler's department: events dispatched
	// to it (DeptHandler) are the token's to sign, return and resolve.
	Department string `json:"department,omitempty"`
	// Origin is the jurisdiction that issued a token replicated here from
	// the tier above ("" for this group's own).
	Origin string `json:"origin,omitempty"`
	// ReplicaSecret is the secret, sealed, carried by the command that
	// issues a token so the tiers below can hash it under their own keys;
	// it is never stored in the token.
	ReplicaSecret string `json:"replica_secret,omitempty"`
}

// Handles reports whether handler (an event's) names the token: the token
// itself, or its department.
func (tk *Token) Handles(handler string) bool {
	return handler != "" && (handler == TokenHandler(tk.ID) || (tk.Department != "" && handler == DeptHandler(tk.Department)))
}

// Handlers lists the handler identities the token answers for.
func (tk *Token) Handlers() []string {
	out := []string{TokenHandler(tk.ID)}
	if tk.Department != "" {
		out = append(out, DeptHandler(tk.Department))
	}
	return out
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

// Bounds of a token's holder fields, in characters.
const (
	MaxPerson     = 50
	MaxStaffNo    = 32
	MaxDepartment = 64
)

// CheckHolder checks who a token is issued to: a display name and staff
// number of bounded length (the staff number letters, digits and -), and a
// department only for a department_handler.
func CheckHolder(role, person, staffNo, department string) error {
	if !utf8.ValidString(person) || utf8.RuneCountInString(person) > MaxPerson {
		return errs.Invalid("person", "length", "person is at most %d characters", MaxPerson)
	}
	if len(staffNo) > MaxStaffNo || strings.Trim(staffNo, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-") != "" {
		return errs.Invalid("staff_no", "format", "a staff number is up to %d letters, digits and -", MaxStaffNo)
	}
	if department == "" {
		return nil
	}
	if role != "department_handler" {
		return errs.Invalid("department", "role", "only a department_handler's token names a department")
	}
	if !utf8.ValidString(department) || strings.TrimSpace(department) == "" || utf8.RuneCountInString(department) > MaxDepartment {
		return errs.Invalid("department", "length", "a department is named in 1..%d characters", MaxDepartment)
	}
	return nil
}
