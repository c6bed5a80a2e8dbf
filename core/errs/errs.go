// Package errs holds the typed errors every Fengqiao package returns.
//
// Callers test them with errors.Is; the concrete *FieldError says which field
// and which rule failed, so an HTTP layer can name the offending field.
package errs

import (
	"errors"
	"fmt"
)

// Sentinel kinds. Every error Fengqiao returns wraps exactly one of them.
var (
	// ErrInvalid marks input that can never succeed as given.
	ErrInvalid = errors.New("invalid input")
	// ErrNotFound marks a reference to something that does not exist (or is out of scope).
	ErrNotFound = errors.New("not found")
	// ErrConflict marks a request that clashes with the current state.
	ErrConflict = errors.New("conflict")
	// ErrIllegalTransition marks an event action not allowed in the event's state.
	// It also matches ErrConflict.
	ErrIllegalTransition = &kindErr{msg: "illegal transition", parent: ErrConflict}
	// ErrKeyReused marks an idempotency key given again with a different
	// request: neither a retry nor a new request. It also matches
	// ErrConflict.
	ErrKeyReused = &kindErr{msg: "idempotency key reused", parent: ErrConflict}
	// ErrForbidden marks an action the caller may not take.
	ErrForbidden = errors.New("forbidden")
	// ErrTampered marks audit or sealed data that fails verification.
	ErrTampered = errors.New("tampered")
	// ErrClosed marks use of a closed store.
	ErrClosed = errors.New("store closed")
	// ErrUnavailable marks a request this node cannot serve now (it is not
	// the leader, say); nothing was done and a retry elsewhere is safe.
	ErrUnavailable = errors.New("unavailable")
	// ErrOutcomeUnknown marks a write handed to the log whose result never
	// came back: it may or may not have been applied. Check before retrying.
	ErrOutcomeUnknown = errors.New("outcome unknown")
)

type kindErr struct {
	msg    string
	parent error
}

func (k *kindErr) Error() string        { return k.msg }
func (k *kindErr) Is(target error) bool { return target == k.parent }

// FieldError says which field broke which rule. It wraps a sentinel kind.
type FieldError struct {
	Kind  error  // one of the sentinels above
	Field string // the offending field, in the caller's vocabulary (e.g. "location.lng")
	Rule  string // a short machine-readable rule name, e.g. "required", "check_digit"
	Msg   string // a human sentence
}

// Error formats the kind, field and message.
func (e *FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%v: %s", e.Kind, e.Msg)
	}
	return fmt.Sprintf("%v: %s: %s", e.Kind, e.Field, e.Msg)
}

// Unwrap lets errors.Is see the sentinel kind.
func (e *FieldError) Unwrap() error { return e.Kind }

// Invalid builds an ErrInvalid field error.
func Invalid(field, rule, format string, args ...any) error {
	return &FieldError{Kind: ErrInvalid, Field: field, Rule: rule, Msg: fmt.Sprintf(format, args...)}
}

// NotFound builds an ErrNotFound field error.
func NotFound(field, format string, args ...any) error {
	return &FieldError{Kind: ErrNotFound, Field: field, Rule: "not_found", Msg: fmt.Sprintf(format, args...)}
}

// Conflict builds an ErrConflict field error.
func Conflict(field, rule, format string, args ...any) error {
	return &FieldError{Kind: ErrConflict, Field: field, Rule: rule, Msg: fmt.Sprintf(format, args...)}
}

// Illegal builds an ErrIllegalTransition error for an event action.
func Illegal(action, state string) error {
	return &FieldError{Kind: ErrIllegalTransition, Field: "action", Rule: "illegal_transition",
		Msg: fmt.Sprintf("action %q is not allowed in state %q", action, state)}
}

// Field returns the offending field of err, or "" when err names none.
func Field(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

// Forbidden builds an ErrForbidden field error (a sharing policy, say).
func Forbidden(field, rule, format string, args ...any) error {
	return &FieldError{Kind: ErrForbidden, Field: field, Rule: rule, Msg: fmt.Sprintf(format, args...)}
}
