package state

import "github.com/fengqiao/fengqiao/core/errs"

// hidden reports whether a record placed at code lies outside the command's
// scope. A command without a scope (the node's own jobs, embedding programs)
// sees everything.
func hidden(c *Command, code string) bool {
	return c.Scope != "" && (code == "" || !IsUnder(code, c.Scope))
}

// loadIn loads the record at key like load, and answers NotFound, worded as
// for a missing record, when place says it lies outside the command's scope.
func loadIn[T any](t *txn, c *Command, bucket []byte, key, field, what string, place func(*T) string) (*T, error) {
	v, err := load[T](t, bucket, key, field, what)
	if err != nil {
		return nil, err
	}
	if hidden(c, place(v)) {
		return nil, errs.NotFound(field, "%s %s not found", what, key)
	}
	return v, nil
}

// placeIn refuses a new place outside the command's scope, worded as a
// missing jurisdiction.
func placeIn(c *Command, field, code string) error {
	if hidden(c, code) {
		return errs.NotFound(field, "jurisdiction %s not found", code)
	}
	return nil
}

// unavailable refuses to create a record under an id that an existing
// record outside the command's scope holds. It names neither that record
// nor its place: only that this id cannot be used.
func unavailable(field, id string) error {
	return errs.Conflict(field, "unavailable", "%s %q cannot be used here; choose another", field, id)
}
