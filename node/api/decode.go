package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/fengqiao/fengqiao/core/errs"
)

// MaxBody bounds every request body.
const MaxBody = 1 << 20

// decode reads one JSON object into v: bounded size, no unknown fields, no
// trailing data. Errors name the field when the decoder can tell.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("%w: more than %d bytes", errTooLarge, MaxBody)
		}
		return errs.Invalid("body", "read", "cannot read the body: %v", err)
	}
	// The body is JSON whatever Content-Type says (curl -d sends a form
	// type by default); a body that is not JSON fails below, naming itself.
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return errs.Invalid("body", "json", "trailing data after the JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return errs.Invalid(te.Field, "type", "%s must be %s, not %s", te.Field, te.Type, te.Value)
	case errors.As(err, &se):
		return errs.Invalid("body", "json", "malformed JSON at byte %d", se.Offset)
	case errors.Is(err, io.EOF):
		return errs.Invalid("body", "required", "the body is empty")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errs.Invalid(f, "unknown_field", "unknown field %q", f)
	}
	return errs.Invalid("body", "json", "%v", err)
}
