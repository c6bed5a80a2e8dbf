package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
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
		err = jsonError(err)
		// A type's own UnmarshalJSON (a time, say) fails without saying
		// where: find the field whose value does not decode.
		if fe := (*errs.FieldError)(nil); errors.As(err, &fe) && fe.Field == "body" && fe.Rule == "json" {
			if f := fieldOf(body, reflect.TypeOf(v)); f != "" {
				return errs.Invalid(f, "format", "%s: %s", f, fe.Msg)
			}
		}
		return err
	}
	if dec.More() {
		return errs.Invalid("body", "json", "trailing data after the JSON object")
	}
	return nil
}

// fieldOf is the dotted JSON path of the first field of t's type whose value
// in body does not decode, or "" when none can be blamed.
func fieldOf(body []byte, t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var obj map[string]json.RawMessage
	if t.Kind() != reflect.Struct || json.Unmarshal(body, &obj) != nil {
		return ""
	}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if sf.Anonymous { // promoted fields sit in the same object
			if f := fieldOf(body, sf.Type); f != "" {
				return f
			}
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" || !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		raw, ok := obj[name]
		if !ok {
			continue
		}
		if err := json.Unmarshal(raw, reflect.New(sf.Type).Interface()); err != nil {
			if sub := fieldOf(raw, sf.Type); sub != "" {
				return name + "." + sub
			}
			return name
		}
	}
	return ""
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
