package api

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/plugins/host"
)

// formField is one field a running plugin's report form asks a reporter
// to fill, named as its extension field is (plugin:field).
type formField struct {
	Key      string
	Title    string
	Schema   json.RawMessage
	Required bool
	prop     fieldSchema
}

// fieldSchema is what a field's schema says that Open311 can express.
type fieldSchema struct {
	Type      any      `json:"type"` // a name or a list of names
	Title     string   `json:"title"`
	Format    string   `json:"format"`
	MaxLength int      `json:"maxLength"`
	Enum      []any    `json:"enum"`
	Names     []string `json:"x-names"` // display names of the enum, in its order
	Items     *struct {
		Enum  []any    `json:"enum"`
		Names []string `json:"x-names"`
	} `json:"items"`
}

func (f fieldSchema) is(t string) bool {
	switch v := f.Type.(type) {
	case string:
		return v == t
	case []any:
		return slices.Contains(v, any(t))
	}
	return false
}

// reportFields lists the report-form fields of the plugins running here,
// in form order.
func (s *Server) reportFields() []formField {
	var out []formField
	for _, f := range s.pluginForms() {
		if f.Place != "report" {
			continue
		}
		for _, name := range f.Fields {
			ff := formField{Key: f.Plugin + ":" + name, Schema: f.Schema[name], Required: slices.Contains(f.Required, name)}
			json.Unmarshal(ff.Schema, &ff.prop)
			ff.Title = ff.prop.Title
			if ff.Title == "" {
				ff.Title = name
			}
			out = append(out, ff)
		}
	}
	return out
}

// namesPluginField reports whether ext holds a plugin's field (plugin:name).
func namesPluginField(ext map[string]json.RawMessage) bool {
	for k := range ext {
		if strings.Contains(k, ":") {
			return true
		}
	}
	return false
}

// withReportFields checks the plugin fields a report carries against the
// report forms that declare them (fields, from reportFields), and answers
// the context that lets the report write them. A plugin field no report
// form declares is left for core to refuse (it is the plugin's own).
func withReportFields(ctx context.Context, ext map[string]json.RawMessage, fields []formField, field func(key string) string) (context.Context, error) {
	var keys []string
	for _, k := range slices.Sorted(maps.Keys(ext)) {
		if !strings.Contains(k, ":") {
			continue
		}
		i := slices.IndexFunc(fields, func(f formField) bool { return f.Key == k })
		if i < 0 {
			continue
		}
		var v any
		if err := json.Unmarshal(ext[k], &v); err != nil {
			return ctx, errs.Invalid(field(k), "json", "%s is not a JSON value", field(k))
		}
		if err := host.CheckFieldValue(fields[i].Schema, v); err != nil {
			return ctx, errs.Invalid(field(k), "schema", "%s (%s) does not fit the field: %v", field(k), fields[i].Title, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return ctx, nil
	}
	return core.WithFormFields(ctx, keys), nil
}

// o311Attributes are the report-form fields as Open311 attributes.
func o311Attributes(fields []formField) []o311Attribute {
	out := []o311Attribute{}
	for i, f := range fields {
		a := o311Attribute{Variable: true, Code: f.Key, Required: f.Required, Description: f.Title, Order: i + 1, Datatype: "string"}
		p := f.prop
		switch {
		case len(p.Enum) > 0:
			a.Datatype, a.Values = "singlevaluelist", o311Values(p.Enum, p.Names)
		case p.is("array") && p.Items != nil && len(p.Items.Enum) > 0:
			a.Datatype, a.Values = "multivaluelist", o311Values(p.Items.Enum, p.Items.Names)
		case p.is("boolean"):
			a.Datatype, a.Values = "singlevaluelist", []o311Value{{Key: "true", Name: "是"}, {Key: "false", Name: "否"}}
		case p.is("number") || p.is("integer"):
			a.Datatype = "number"
		case p.Format == "date-time":
			a.Datatype = "datetime"
		case p.MaxLength == 0 || p.MaxLength > 255:
			a.Datatype = "text"
		}
		out = append(out, a)
	}
	return out
}

func o311Values(enum []any, names []string) []o311Value {
	out := make([]o311Value, len(enum))
	for i, e := range enum {
		key := fmt.Sprint(e) // a JSON string, number or boolean, as a form sends it
		out[i] = o311Value{Key: key, Name: key}
		if i < len(names) {
			out[i].Name = names[i]
		}
	}
	return out
}

// o311AttributeValues reads attribute[code] (and attribute[code][] for a
// multivaluelist) from an Open311 form into extension fields, typed as the
// field's schema says. An attribute no service definition lists, and a
// required one missing, are refused naming it.
func o311AttributeValues(form map[string][]string, fields []formField) (map[string]json.RawMessage, error) {
	ext := map[string]json.RawMessage{}
	given := map[string][]string{}
	for k, vs := range form {
		code, ok := strings.CutPrefix(k, "attribute[")
		if !ok {
			continue
		}
		code = strings.TrimSuffix(strings.TrimSuffix(code, "[]"), "]")
		if !slices.ContainsFunc(fields, func(f formField) bool { return f.Key == code }) {
			return nil, errs.Invalid("attribute["+code+"]", "unknown", "attribute %s is not in the service definition", code)
		}
		given[code] = append(given[code], vs...)
	}
	for _, f := range fields {
		vs := given[f.Key]
		if len(vs) == 0 || len(vs) == 1 && vs[0] == "" {
			if f.Required {
				return nil, errs.Invalid("attribute["+f.Key+"]", "required", "attribute %s (%s) is required", f.Key, f.Title)
			}
			continue
		}
		var v any = vs[0]
		switch p := f.prop; {
		case p.is("array"):
			v = vs
		case p.is("boolean"):
			b, err := strconv.ParseBool(vs[0])
			if err != nil {
				return nil, errs.Invalid("attribute["+f.Key+"]", "bool", "attribute %s is true or false", f.Key)
			}
			v = b
		case p.is("number") || p.is("integer"):
			n, err := strconv.ParseFloat(vs[0], 64)
			if err != nil {
				return nil, errs.Invalid("attribute["+f.Key+"]", "number", "attribute %s is a number", f.Key)
			}
			v = n
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		ext[f.Key] = raw
	}
	return ext, nil
}
