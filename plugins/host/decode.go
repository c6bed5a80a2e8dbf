package host

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
	"github.com/fengqiao/fengqiao/core/workcal"
	pluginv1 "github.com/fengqiao/fengqiao/plugins/proto/fengqiao/plugin/v1"
)

// A plugin is outside input: every answer is checked here before the node
// uses any of it, and a broken one is refused whole with a reason. These
// functions take no clock and start nothing, so the fuzz tests drive them
// directly.

// ErrBadResponse marks an answer from a plugin that breaks the protocol.
var ErrBadResponse = errors.New("plugin broke the protocol")

// Bounds of what a plugin may describe and answer.
const (
	maxSchema   = 64 << 10
	maxJobs     = 32
	maxRoutes   = 64
	maxProblems = 64
	maxText     = 500
	// MaxCommands bounds the commands of one answer.
	MaxCommands = 1000
)

func bad(plugin, format string, args ...any) error {
	return fmt.Errorf("plugin %s: %s: %w", plugin, fmt.Sprintf(format, args...), ErrBadResponse)
}

// hookNames maps the wire's hooks to the catalog's names.
var hookNames = map[pluginv1.Hook]string{
	pluginv1.Hook_HOOK_VALIDATE_EVENT: model.HookValidateEvent,
	pluginv1.Hook_HOOK_ENRICH_EVENT:   model.HookEnrichEvent,
	pluginv1.Hook_HOOK_ROUTE_EVENT:    model.HookRouteEvent,
	pluginv1.Hook_HOOK_ON_TRANSITION:  model.HookOnTransition,
}

// Description is a plugin's checked answer to Describe.
type Description struct {
	Name       string           `json:"name"`
	Version    string           `json:"version"`
	Hooks      []string         `json:"hooks"`
	Categories []model.Category `json:"categories,omitempty"`
	// Fields is the JSON Schema of the extension fields the plugin writes;
	// the console renders its forms from it.
	Fields json.RawMessage `json:"fields,omitempty"`
	Jobs   []Job           `json:"jobs,omitempty"`
	Routes []Route         `json:"routes,omitempty"`
	Forms  []Form          `json:"forms,omitempty"`

	schema *jsonschema.Schema // Fields, compiled
}

// Form is a group of a plugin's fields the console renders together.
type Form struct {
	Name   string   `json:"name"`
	Title  string   `json:"title"`
	Place  string   `json:"place"` // report or event
	Fields []string `json:"fields"`
}

// maxForms bounds the forms a plugin describes.
const maxForms = 16

// Job is a plugin's time-driven job.
type Job struct {
	Name     string        `json:"name"`
	Cron     string        `json:"cron"`
	schedule cron.Schedule // in China time
}

// Next is the job's next run after t; schedules are in China time.
func (j Job) Next(t time.Time) time.Time { return j.schedule.Next(t.In(workcal.CST)) }

// Route is an HTTP route a plugin serves under /api/v1/plugins/{name}.
type Route struct {
	Method  string `json:"method"`
	Path    string `json:"path"`
	Summary string `json:"summary,omitempty"`
	Perm    string `json:"perm"` // read, report or act
}

// RoutePerms are the permissions a plugin's route may ask of a caller.
var RoutePerms = []string{"read", "report", "act"}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// decodeDescription checks a Describe answer. name is the plugin's name in
// the catalog, or "" before it is registered.
func decodeDescription(name string, d *pluginv1.DescribeResponse) (*Description, error) {
	who := name
	if who == "" {
		who = d.GetName()
	}
	if err := model.CheckPluginName(d.GetName()); err != nil {
		return nil, bad(who, "describe: %v", err)
	}
	if name != "" && d.GetName() != name {
		return nil, bad(who, "describe: the binary calls itself %q", d.GetName())
	}
	if _, err := model.ParseVersion(d.GetVersion()); err != nil {
		return nil, bad(who, "describe: %v", err)
	}
	out := &Description{Name: d.GetName(), Version: d.GetVersion(), Hooks: []string{}}
	for _, h := range d.GetHooks() {
		n, ok := hookNames[h]
		if !ok {
			return nil, bad(who, "describe: unknown hook %d", int32(h))
		}
		if slices.Contains(out.Hooks, n) {
			return nil, bad(who, "describe: hook %s named twice", n)
		}
		out.Hooks = append(out.Hooks, n)
	}
	for i, raw := range d.GetCategories() {
		var c model.Category
		if err := strictJSON(raw, &c); err != nil {
			return nil, bad(who, "describe: categories[%d]: %v", i, err)
		}
		if c.Source == "" {
			c.Source = out.Name
		}
		if c.Source != out.Name {
			return nil, bad(who, "describe: categories[%d]: a plugin adds categories under its own name, not %q", i, c.Source)
		}
		if err := state.CheckCategory(c); err != nil {
			return nil, bad(who, "describe: categories[%d]: %v", i, err)
		}
		out.Categories = append(out.Categories, c)
	}
	var props map[string]any
	if raw := d.GetFields(); len(raw) > 0 {
		sch, err := compileFields(raw)
		if err != nil {
			return nil, bad(who, "describe: fields: %v", err)
		}
		out.Fields, out.schema = raw, sch
		var doc struct {
			Properties map[string]any `json:"properties"`
		}
		json.Unmarshal(raw, &doc)
		props = doc.Properties
	}
	if len(d.GetForms()) > maxForms {
		return nil, bad(who, "describe: at most %d forms", maxForms)
	}
	for _, f := range d.GetForms() {
		fm := Form{Name: f.GetName(), Title: f.GetTitle(), Place: f.GetPlace(), Fields: f.GetFields()}
		switch {
		case model.CheckID("form", fm.Name) != nil:
			return nil, bad(who, "describe: form %q: a name like an id", fm.Name)
		case fm.Title == "" || len(fm.Title) > 100:
			return nil, bad(who, "describe: form %s: a title of 1..100 bytes", fm.Name)
		case fm.Place != "report" && fm.Place != "event":
			return nil, bad(who, "describe: form %s: place must be report or event", fm.Name)
		case len(fm.Fields) == 0 || len(fm.Fields) > 64:
			return nil, bad(who, "describe: form %s: 1..64 fields", fm.Name)
		case slices.ContainsFunc(out.Forms, func(o Form) bool { return o.Name == fm.Name }):
			return nil, bad(who, "describe: form %s named twice", fm.Name)
		}
		for _, field := range fm.Fields {
			if _, ok := props[field]; !ok {
				return nil, bad(who, "describe: form %s: field %q is not a property of its fields schema", fm.Name, field)
			}
		}
		out.Forms = append(out.Forms, fm)
	}
	if len(d.GetJobs()) > maxJobs {
		return nil, bad(who, "describe: at most %d jobs", maxJobs)
	}
	for _, j := range d.GetJobs() {
		if err := model.CheckID("job", j.GetName()); err != nil {
			return nil, bad(who, "describe: job %q: %v", j.GetName(), err)
		}
		if slices.ContainsFunc(out.Jobs, func(o Job) bool { return o.Name == j.GetName() }) {
			return nil, bad(who, "describe: job %s named twice", j.GetName())
		}
		s, err := cronParser.Parse(j.GetCron())
		if err != nil {
			return nil, bad(who, "describe: job %s: cron %q: %v", j.GetName(), j.GetCron(), err)
		}
		out.Jobs = append(out.Jobs, Job{Name: j.GetName(), Cron: j.GetCron(), schedule: s})
	}
	if len(d.GetRoutes()) > maxRoutes {
		return nil, bad(who, "describe: at most %d routes", maxRoutes)
	}
	for _, r := range d.GetRoutes() {
		rt := Route{Method: r.GetMethod(), Path: r.GetPath(), Summary: r.GetSummary(), Perm: r.GetPerm()}
		if rt.Perm == "" {
			rt.Perm = "read"
		}
		if err := checkRoute(rt); err != nil {
			return nil, bad(who, "describe: route %s %q: %v", rt.Method, rt.Path, err)
		}
		if slices.ContainsFunc(out.Routes, func(o Route) bool { return o.Method == rt.Method && o.Path == rt.Path }) {
			return nil, bad(who, "describe: route %s %s named twice", rt.Method, rt.Path)
		}
		out.Routes = append(out.Routes, rt)
	}
	return out, nil
}

// compileFields compiles a plugin's schema of its fields. It must describe
// an object, and may refer to nothing outside itself.
func compileFields(raw []byte) (*jsonschema.Schema, error) {
	if len(raw) > maxSchema {
		return nil, fmt.Errorf("larger than %d bytes", maxSchema)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if m, ok := doc.(map[string]any); !ok || m["type"] != "object" {
		return nil, errors.New(`the schema must be an object schema ("type": "object")`)
	}
	return compileDoc("fields.json", doc)
}

// compileDoc compiles a schema document with nothing loaded from files or
// the network.
func compileDoc(name string, doc any) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.UseLoader(jsonschema.SchemeURLLoader{}) // no file or network references
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(name, doc); err != nil {
		return nil, err
	}
	return c.Compile(name)
}

// CheckFieldValue checks one value a reporter gives against the schema a
// plugin declared for that field (one property of its Fields).
func CheckFieldValue(schema json.RawMessage, value any) error {
	if len(schema) > maxSchema {
		return fmt.Errorf("the field's schema is larger than %d bytes", maxSchema)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return fmt.Errorf("the field's schema is not JSON: %v", err)
	}
	sch, err := compileDoc("field.json", doc)
	if err != nil {
		return err
	}
	return sch.Validate(value)
}

func checkRoute(r Route) error {
	switch r.Method {
	case "GET", "POST", "PUT", "PATCH", "DELETE":
	default:
		return errors.New("method must be GET, POST, PUT, PATCH or DELETE")
	}
	if !strings.HasPrefix(r.Path, "/") || len(r.Path) > 200 || strings.Contains(r.Path, "..") || strings.Contains(r.Path, "//") {
		return errors.New("path must start with / and hold no .. or //")
	}
	for _, c := range r.Path {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("/-_.{}", c)) {
			return fmt.Errorf("path may hold letters, digits and / - _ . { } only")
		}
	}
	if len(r.Summary) > maxText {
		return fmt.Errorf("summary longer than %d bytes", maxText)
	}
	if !slices.Contains(RoutePerms, r.Perm) {
		return fmt.Errorf("perm %q is not one of %v", r.Perm, RoutePerms)
	}
	if first, _, _ := strings.Cut(r.Path[1:], "/"); first == "enable" || first == "disable" || first == "" {
		return errors.New("the paths /, /enable and /disable are the node's own")
	}
	return validPattern(r.Method + " " + r.Path)
}

// validPattern checks a route against net/http's pattern syntax.
func validPattern(p string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("not a valid pattern: %v", r)
		}
	}()
	http.NewServeMux().HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
	return nil
}

// strictJSON decodes one JSON value, refusing unknown fields and trailing data.
func strictJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// Problem is one reason a plugin refuses a report.
type Problem struct {
	Field   string `json:"field"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

func decodeProblems(plugin string, r *pluginv1.ValidateEventResponse) ([]Problem, error) {
	if len(r.GetProblems()) > maxProblems {
		return nil, bad(plugin, "ValidateEvent: more than %d problems", maxProblems)
	}
	var out []Problem
	for i, p := range r.GetProblems() {
		if len(p.GetField()) > 100 || len(p.GetRule()) > 64 || len(p.GetMessage()) > maxText || p.GetMessage() == "" {
			return nil, bad(plugin, "ValidateEvent: problems[%d]: field ≤100, rule ≤64 and a message of 1..%d bytes", i, maxText)
		}
		out = append(out, Problem{Field: p.GetField(), Rule: p.GetRule(), Message: p.GetMessage()})
	}
	return out, nil
}

// Enrichment is a checked EnrichEvent answer; Ext names are the plugin's
// own (PluginExtKey adds the namespace).
type Enrichment struct {
	Urgency  string
	Category string
	Ext      map[string]json.RawMessage
}

func decodeEnrichment(plugin string, d *Description, r *pluginv1.EnrichEventResponse) (*Enrichment, error) {
	if u := r.GetUrgency(); u != "" && !slices.Contains(model.Urgencies, u) {
		return nil, bad(plugin, "EnrichEvent: urgency %q is not one of %v", u, model.Urgencies)
	}
	if c := r.GetCategory(); c != "" {
		if err := model.CheckID("category", c); err != nil {
			return nil, bad(plugin, "EnrichEvent: category: %v", err)
		}
	}
	if len(r.GetExt()) > model.MaxExt {
		return nil, bad(plugin, "EnrichEvent: more than %d extension fields", model.MaxExt)
	}
	out := &Enrichment{Urgency: r.GetUrgency(), Category: r.GetCategory(), Ext: map[string]json.RawMessage{}}
	obj := map[string]any{}
	for k, v := range r.GetExt() {
		if err := model.CheckID("ext", model.PluginExtKey(plugin, k)); err != nil || strings.Contains(k, ":") {
			return nil, bad(plugin, "EnrichEvent: extension field %q: a name of letters, digits and - _ . (with its namespace at most 64)", k)
		}
		if len(v) == 0 || len(v) > model.MaxExtValue || !json.Valid(v) {
			return nil, bad(plugin, "EnrichEvent: extension field %s must be one JSON value of at most %d bytes", k, model.MaxExtValue)
		}
		val, err := jsonschema.UnmarshalJSON(bytes.NewReader(v))
		if err != nil {
			return nil, bad(plugin, "EnrichEvent: extension field %s: %v", k, err)
		}
		obj[k] = val
		out.Ext[k] = json.RawMessage(v)
	}
	if d != nil && d.schema != nil {
		if err := d.schema.Validate(obj); err != nil {
			return nil, bad(plugin, "EnrichEvent: the fields break the plugin's own schema: %v", err)
		}
	}
	return out, nil
}

func decodeRouting(plugin string, r *pluginv1.RouteEventResponse) (*model.Routing, error) {
	if len(r.GetHandler()) > 200 || len(r.GetDepartment()) > 200 {
		return nil, bad(plugin, "RouteEvent: handler and department are at most 200 bytes")
	}
	out := &model.Routing{Plugin: plugin, Handler: r.GetHandler(), Department: r.GetDepartment()}
	if s := r.GetDeadline(); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, bad(plugin, "RouteEvent: deadline %q is not RFC 3339", s)
		}
		t = t.UTC()
		out.Deadline = &t
	}
	return out, nil
}

// decodeCommands checks the commands of an OnTransition or RunJob answer.
// seqs are the changes delivered (nil for a job, whose commands name none).
// Whether a command's jurisdiction is the plugin's is checked as it is
// proposed (core.Plugins.Execute) and again in apply.
func decodeCommands(plugin, hook string, raws [][]byte, seqs map[uint64]bool) ([]model.PluginCommand, error) {
	if len(raws) > MaxCommands {
		return nil, bad(plugin, "%s: %d commands, at most %d", hook, len(raws), MaxCommands)
	}
	out := make([]model.PluginCommand, len(raws))
	for i, raw := range raws {
		if err := strictJSON(raw, &out[i]); err != nil {
			return nil, bad(plugin, "%s: commands[%d]: %v", hook, i, err)
		}
		c := &out[i]
		if !slices.Contains([]string{model.OpPut, model.OpDelete, model.OpReport, model.OpAct}, c.Op) {
			return nil, bad(plugin, "%s: commands[%d]: unknown op %q", hook, i, c.Op)
		}
		if len(c.ID) > 100 || strings.IndexFunc(c.ID, func(r rune) bool { return r < 0x21 || r == 0x7f }) >= 0 {
			return nil, bad(plugin, "%s: commands[%d]: an id is at most 100 printable characters", hook, i)
		}
		switch {
		case seqs == nil && c.Seq != 0:
			return nil, bad(plugin, "%s: commands[%d]: a job's command answers no change", hook, i)
		case seqs != nil && !seqs[c.Seq]:
			return nil, bad(plugin, "%s: commands[%d]: seq %d is not a change it was given", hook, i, c.Seq)
		}
	}
	return out, nil
}
