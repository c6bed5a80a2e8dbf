package state

import (
	"fmt"
	"strings"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// KeyedPrefix opens the id of a command derived from an idempotency key.
const KeyedPrefix = "k-"

// KeyedCommandID reports whether a command id was derived from an
// idempotency key: such a command may come again, and apply answers the
// repeat with the first result.
func KeyedCommandID(id string) bool { return strings.HasPrefix(id, KeyedPrefix) }

// DuplicateError says a command with this id was applied already; Ref names
// what it made (an event number, a person id), "" when nothing is named.
// It matches errs.ErrConflict.
type DuplicateError struct {
	ID  string
	Ref string
}

// Error names the command and its original result.
func (e *DuplicateError) Error() string {
	return fmt.Sprintf("conflict: command %s was applied already (result %q)", e.ID, e.Ref)
}

// Is lets errors.Is(err, errs.ErrConflict) match.
func (e *DuplicateError) Is(target error) bool { return target == errs.ErrConflict }

// refOf names what a command made, for DuplicateError.
func refOf(v any) string {
	switch x := v.(type) {
	case *model.Event:
		return x.ID
	case *model.Person:
		return x.ID
	case *model.Grid:
		return x.Code
	case *model.Token:
		return x.ID
	case *model.Org:
		return x.ID
	case *model.Member:
		return x.ID
	case *model.Activity:
		return x.ID
	case *model.Visit:
		return fmt.Sprintf("%s/%d", x.Person, x.Seq)
	case *model.House:
		return x.ID
	}
	return ""
}

// requestRecord is what bRequest keeps of a keyed command: the reference to
// what it made and, after a NUL, the digest of the request it came with
// (commands with no digest keep the reference alone, as before).
func requestRecord(ref, digest string) []byte {
	if digest == "" {
		return []byte(ref)
	}
	return []byte(ref + "\x00" + digest)
}

// splitRequest reads a requestRecord.
func splitRequest(rec []byte) (ref, digest string) {
	r, d, _ := strings.Cut(string(rec), "\x00")
	return r, d
}
