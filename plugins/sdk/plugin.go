package sdk

import (
	"context"
	"encoding/json"
	"net/url"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
)

// Plugin is what every plugin implements.
type Plugin interface {
	// Describe says who the plugin is and what it adds. The hooks it serves
	// are found from the interfaces it implements, not declared here.
	Describe(ctx context.Context) (Description, error)
}

// Configurable is a plugin that takes its setup from the catalog, given
// once as it starts, before Describe.
type Configurable interface {
	Configure(ctx context.Context, s Setup) error
}

// Setup is what the catalog says of a plugin: its configuration (one JSON
// object, or nothing) and the jurisdictions it serves (none while it is
// only being registered or checked).
type Setup struct {
	Config        json.RawMessage
	Jurisdictions []string
}

// Covering is the jurisdiction of js that holds place (a jurisdiction or
// grid code), or "": where a plugin keeps records about that place.
func Covering(js []string, place string) string {
	for _, j := range js {
		if model.Under(place, j) {
			return j
		}
	}
	return ""
}

// Description is a plugin's answer to Describe.
type Description struct {
	Name       string
	Version    string
	Categories []model.Category // event categories it adds
	Fields     json.RawMessage  // JSON Schema of the extension fields it writes
	Jobs       []Job
	Routes     []Route
	Forms      []Form // what the console renders for the fields
}

// Form is a group of the plugin's fields (properties of Fields) the console
// renders together: Place "report" as an event is reported, "event" on an
// event's page. Title is zh-CN.
type Form struct {
	Name, Title, Place string
	Fields             []string
}

// Job is a time-driven job of a plugin, run on the group's leader.
type Job struct {
	Name string
	Cron string // five fields, China time
}

// Route is an HTTP route a plugin serves under /api/v1/plugins/{name}.
// Path is a net/http pattern (/leaderboard/{community}); Perm is what the
// caller's role must hold: "read" (the default), "report" or "act".
type Route struct {
	Method, Path, Summary, Perm string
}

// HTTPRequest is a request to one of the plugin's routes, authenticated
// and authorized by the node. Jurisdiction is the ?jurisdiction= it
// checked lies in both the caller's scope and the plugin's jurisdictions:
// answer about it only.
type HTTPRequest struct {
	Method       string
	Route        string            // the pattern matched
	Params       map[string]string // its wildcards
	Query        url.Values
	Body         []byte
	Jurisdiction string
	Caller       Caller
}

// Caller is who made a request.
type Caller struct {
	TokenID, Role, Scope string
}

// HTTPResponse is a plugin's answer: a status (default 200), a body the
// node writes as JSON, and the commands the request makes (a plugin writes
// only through commands): the node proposes them first, and answers with
// the error instead when one is refused.
type HTTPResponse struct {
	Status   int
	Body     any
	Commands []model.PluginCommand
}

// HTTPHandler serves the plugin's routes (Description.Routes).
type HTTPHandler interface {
	HandleHTTP(ctx context.Context, r HTTPRequest) (HTTPResponse, error)
}

// Problem is one reason a plugin refuses a report, naming the field.
type Problem struct {
	Field, Rule, Message string
}

// EventValidator checks a report before it is proposed.
type EventValidator interface {
	ValidateEvent(ctx context.Context, r model.Report, jurisdiction string) ([]Problem, error)
}

// Enrichment is what a plugin adds to a report: an urgency or category
// that replaces the report's, and extension fields.
type Enrichment struct {
	Urgency  string
	Category string
	Ext      map[string]json.RawMessage
}

// EventEnricher adds to a report before it is proposed.
type EventEnricher interface {
	EnrichEvent(ctx context.Context, r model.Report, jurisdiction string) (Enrichment, error)
}

// Routing is where an event goes (分流).
type Routing struct {
	Handler    string
	Department string
	Deadline   time.Time // zero: the SLA's
}

// EventRouter says where an accepted event goes.
type EventRouter interface {
	RouteEvent(ctx context.Context, ev model.Event) (Routing, error)
}

// TransitionHandler hears of applied changes in its jurisdictions, one
// at a time in feed order, and may answer with commands for the host to
// propose: open a task (a put), award points, open an event. A change can
// be delivered again after a leader change; its commands are then applied
// once, so a handler need not guard against it.
type TransitionHandler interface {
	OnTransition(ctx context.Context, ch model.Change) ([]model.PluginCommand, error)
}

// JobRunner runs the plugin's jobs (Description.Jobs) on the group's
// leader. at is the scheduled time, not the clock: a run repeated for the
// same time after a leader change has its commands applied once.
type JobRunner interface {
	RunJob(ctx context.Context, name string, at time.Time) ([]model.PluginCommand, error)
}
