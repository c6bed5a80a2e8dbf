package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
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
		return bodyError(err)
	}
	// The body is JSON whatever Content-Type says (curl -d sends a form
	// type by default); a body that is not JSON fails below, naming itself.
	if path, ok := duplicateKey(body); ok {
		return errs.Invalid(path, "duplicate", "%s is given twice", path)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		err = jsonError(err)
		if fe := (*errs.FieldError)(nil); errors.As(err, &fe) && fe.Rule == "unknown_field" {
			if path := unknownField(body, reflect.TypeOf(v)); path != "" {
				return errs.Invalid(path, "unknown_field", "unknown field %q", path)
			}
		}
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
	for _, f := range jsonFields(t) {
		raw, ok := obj[f.name]
		if !ok {
			continue
		}
		if err := json.Unmarshal(raw, reflect.New(f.typ).Interface()); err != nil {
			if sub := fieldOf(raw, f.typ); sub != "" {
				return f.name + "." + sub
			}
			return f.name
		}
	}
	return ""
}

// jsonField is one field of a struct as JSON names it.
type jsonField struct {
	name string
	typ  reflect.Type
}

// jsonFields lists the fields t's JSON form has, in order, with those of
// embedded structs in place (they sit in the same object).
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if et := sf.Type; sf.Anonymous {
			for et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				out = append(out, jsonFields(et)...)
				continue
			}
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" || !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out = append(out, jsonField{name, sf.Type})
	}
	return out
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field == "":
		return errs.Invalid("body", "type", "the body must be %s, not %s", kindOf(te.Type), te.Value)
	case errors.As(err, &te):
		return errs.Invalid(te.Field, "type", "%s must be %s, not %s", te.Field, kindOf(te.Type), te.Value)
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

// kindOf names the JSON a Go type takes, never the Go type itself.
func kindOf(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Implements(reflect.TypeFor[json.Unmarshaler]()) || reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		if t.Kind() == reflect.Struct {
			return "a string" // times and the like
		}
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a value"
}

// duplicateKey finds a key given twice in one object of body, by its
// dotted path: encoding/json keeps the last without a word, so a client
// could not tell which of two values was taken.
func duplicateKey(body []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var walk func(prefix string, depth int) (string, bool, error)
	walk = func(prefix string, depth int) (string, bool, error) {
		if depth > 64 { // no body of this API nests so deep; the decoder refuses it
			return "", false, errors.New("too deep")
		}
		tok, err := dec.Token()
		if err != nil {
			return "", false, err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return "", false, err
				}
				k, _ := kt.(string)
				path := k
				if prefix != "" {
					path = prefix + "." + k
				}
				if seen[k] {
					return path, true, nil
				}
				seen[k] = true
				if p, dup, err := walk(path, depth+1); dup || err != nil {
					return p, dup, err
				}
			}
			_, err = dec.Token() // }
			return "", false, err
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if p, dup, err := walk(prefix, depth+1); dup || err != nil {
					return p, dup, err
				}
			}
			_, err = dec.Token() // ]
			return "", false, err
		}
		return "", false, nil
	}
	path, dup, _ := walk("", 0)
	return path, dup
}

// unknownField is the dotted path of the first key in body that t's type
// has no field for, or "".
func unknownField(body []byte, t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var obj map[string]json.RawMessage
	if t.Kind() != reflect.Struct || json.Unmarshal(body, &obj) != nil {
		return ""
	}
	fields := map[string]reflect.Type{}
	for _, f := range jsonFields(t) {
		fields[f.name] = f.typ
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		ft, ok := fields[k]
		if !ok {
			// encoding/json matches names without regard to case.
			for name, typ := range fields {
				if strings.EqualFold(name, k) {
					ft, ok = typ, true
				}
			}
		}
		if !ok {
			return k
		}
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			raw := obj[k]
			if len(raw) > 0 && raw[0] == '[' {
				var items []json.RawMessage
				json.Unmarshal(raw, &items)
				for _, it := range items {
					if sub := unknownField(it, ft); sub != "" {
						return k + "." + sub
					}
				}
			} else if sub := unknownField(raw, ft); sub != "" {
				return k + "." + sub
			}
		}
	}
	return ""
}

// bodyError is the problem with a body that could not be read: too large,
// or cut off.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fmt.Errorf("%w: more than %d bytes", errTooLarge, mbe.Limit)
	}
	return errs.Invalid("body", "read", "cannot read the body: %v", err)
}
