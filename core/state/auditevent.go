package state

import (
	"slices"
	"unicode/utf8"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Kinds of audit event.
const (
	AuditAuthFailed  = "auth_failed"  // a credential was refused (unknown, expired, revoked token; bad second factor)
	AuditLockedOut   = "locked_out"   // a client address was locked out after repeated failures
	AuditDenied      = "denied"       // an authenticated caller was refused (role, scope, special records)
	AuditBackup      = "backup"       // a backup was taken
	AuditRestore     = "restore"      // the state was replaced by a backup
	AuditKeyRotation = "key_rotation" // this node began sealing with another key generation
	AuditConflict    = "conflict"     // an attempt the caller should not repeat, such as registering a person registered elsewhere
	AuditReplayed    = "replayed"     // the leader refused a forwarded command seen before, or stamped outside its window
	AuditLookup      = "lookup"       // a person was looked up by ID number, found or not (the detail says which, never the number)
)

// AuditKinds lists the kinds of audit event.
var AuditKinds = []string{AuditAuthFailed, AuditLockedOut, AuditDenied, AuditBackup, AuditRestore, AuditKeyRotation, AuditConflict, AuditReplayed, AuditLookup}

// AuditEvent is one event for the audit chain. Its fields are short and
// carry no secret and no personal data: a route pattern, never a path with
// ids; a token id, never its secret.
type AuditEvent struct {
	Kind   string `json:"kind"`
	Remote string `json:"remote,omitempty"` // client address
	Route  string `json:"route,omitempty"`  // method and route pattern
	Token  string `json:"token,omitempty"`  // the token id, when one was identified
	Role   string `json:"role,omitempty"`
	Detail string `json:"detail,omitempty"` // the rule that refused, a backup's size, a generation
}

// MaxAuditField bounds each field of an audit event, in characters.
const MaxAuditField = 200

var auditFieldNames = [...]string{"remote", "route", "token", "role", "detail"}

// Fields are the event's free-text fields, in auditFieldNames' order.
func (ev *AuditEvent) Fields() [5]*string {
	return [5]*string{&ev.Remote, &ev.Route, &ev.Token, &ev.Role, &ev.Detail}
}

// Check applies the input rules of an audit event, naming the first bad field in a fixed order.
func (ev *AuditEvent) Check() error {
	if !slices.Contains(AuditKinds, ev.Kind) {
		return errs.Invalid("kind", "enum", "kind must be one of %v", AuditKinds)
	}
	// In field order, not a map's: apply runs this, and every replica must
	// name the same field.
	for i, v := range ev.Fields() {
		if !utf8.ValidString(*v) || utf8.RuneCountInString(*v) > MaxAuditField {
			name := auditFieldNames[i]
			return errs.Invalid(name, "length", "%s must be valid text of at most %d characters", name, MaxAuditField)
		}
	}
	return nil
}

func applyAuditEvent(t *txn, c *Command, ev *AuditEvent) (any, error) {
	if inputRules(c) {
		return nil, ev.Check()
	}
	return nil, nil
}

// Cut keeps the first n characters of valid text.
func Cut(s string, n int) string {
	if !utf8.ValidString(s) {
		s = string([]rune(s)) // invalid bytes become U+FFFD
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
