// Package api serves Fengqiao's HTTP API v1: JSON in and out, RFC 9457
// problem+json errors that name the offending field, bearer tokens with
// roles scoped to a jurisdiction subtree, cursor pagination, and an OpenAPI
// 3.1 document generated from the same route table the server uses.
package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// Backend is what the API needs of a node.
type Backend interface {
	// Store is the core library over this node's replica.
	Store() *core.Store
	// ReadBarrier returns nil when a read of local state is linearizable now.
	// A node that cannot say so returns an error naming the leader.
	ReadBarrier() error
	// Ready returns nil when the node can serve traffic.
	Ready() error
	Cluster
	Federation
}

// NotLeader builds the error a Backend returns when another node must serve
// a write or a consistent read.
func NotLeader(leader string) error { return &errNotLeader{leader: leader} }

// Server is the HTTP API.
type Server struct {
	b   Backend
	log *slog.Logger
	mux *http.ServeMux
	// Observe, if set, is told each request's method, route pattern, status
	// and duration (metrics hook).
	Observe func(method, route string, status int, took time.Duration)
	// Dev accepts the development root token (access.DevRoot) and asks no
	// second factor of administrators: serve --dev and demo only.
	Dev bool
	// OnAuth, if set, hears of refused credentials: "failed" for each,
	// "locked_out" when an address is locked out, "while_locked" for each
	// request refused during a lockout (metrics hook).
	OnAuth func(outcome string)
	// Plugins, if set, is the node's plugin manager: plugin registration
	// and the plugins' own routes need it.
	Plugins PluginHost
	// Console, if set, serves the paths it says are its own (outside /api/
	// and /open311/): the embedded web console (node/console). Every other
	// path answers problem+json as before.
	Console ConsoleHandler
	lock    *lockout
}

// pluginRoutes is where plugins' own routes live; the OpenAPI document
// lists each running plugin's routes in its place.
const pluginRoutes = "/api/v1/plugins/{name}/{path...}"

type handlerFunc func(s *Server, w http.ResponseWriter, r *http.Request) error

// route is one endpoint; the OpenAPI document and the authorization
// matrix test are generated from these.
type route struct {
	method, path, op, summary string
	public                    bool        // no token needed
	perm                      access.Perm // what the token's role must hold
	wide                      bool        // the token's scope must cover the whole group
	h                         handlerFunc
}

// anonOps are the routes a request without any credential may call: the
// handler shows it only what the jurisdiction made public (Open311's
// keyless reads, limited by config/open311). A bad credential is refused
// as on any route.
var anonOps = map[string]bool{"open311Services": true, "open311ServicesXML": true, "open311Service": true,
	"open311List": true, "open311ListXML": true, "open311Get": true}

// hasCredential reports whether the request presents any credential.
func hasCredential(r *http.Request) bool {
	_, ok := credential(r)
	return ok || r.Header.Get("Authorization") != ""
}

// For the route table's public column.
const (
	public = true
	token  = false
)

// routes is filled in init: the openapi handler reads it.
var routes []route

func init() {
	routes = []route{
		{"GET", "/healthz", "health", "Liveness: the process is up", public, 0, false, (*Server).health},
		{"GET", "/readyz", "ready", "Readiness: the node can serve", public, 0, false, (*Server).ready},
		{"GET", "/api/v1/openapi.json", "openapi", "This document", public, 0, false, (*Server).openapi},
		{"GET", "/api/v1/session", "session", "Who the caller is and what core/access lets it do: role, scope, permissions, event actions (the console asks this first)", token, access.Self, false, (*Server).session},
		{"GET", "/api/v1/jurisdictions/{code}", "getJurisdiction", "One jurisdiction with its children", token, access.Read, false, (*Server).getJurisdiction},
		{"POST", "/api/v1/jurisdictions", "loadDivisions", "Upsert divisions (parents first) and code aliases", token, access.System, true, (*Server).loadDivisions},
		{"GET", "/api/v1/grids", "listGrids", "Grids under a jurisdiction, as GeoJSON Features", token, access.Read, false, (*Server).listGrids},
		{"POST", "/api/v1/grids", "createGrid", "Create a grid from a GeoJSON Feature", token, access.ManagePlaces, false, (*Server).createGrid},
		{"GET", "/api/v1/grids/locate", "locateGrid", "The grid containing a point", token, access.Read, false, (*Server).locateGrid},
		{"GET", "/api/v1/grids/{code}", "getGrid", "One grid", token, access.Read, false, (*Server).getGrid},
		{"PUT", "/api/v1/grids/{code}", "updateGrid", "Replace a grid's name, type, duties and geometry (a basic grid may not overlap another)", token, access.ManagePlaces, false, (*Server).updateGrid},
		{"POST", "/api/v1/grids/{code}/retire", "retireGrid", "Take a grid out of use with a reason; its events and history stay", token, access.ManagePlaces, false, (*Server).retireGrid},
		{"PUT", "/api/v1/grids/{code}/workers/{worker}", "assignWorker", "Put a worker on a grid as 网格长, 专职 or 兼职 (grid_leader, full_time, part_time)", token, access.ManagePlaces, false, (*Server).assignWorker},
		{"DELETE", "/api/v1/grids/{code}/workers/{worker}", "removeWorker", "Take a worker off a grid", token, access.ManagePlaces, false, (*Server).removeWorker},
		{"POST", "/api/v1/workers", "putWorker", "Create or update a grid worker of a jurisdiction", token, access.ManagePlaces, false, (*Server).putWorker},
		{"GET", "/api/v1/categories", "listCategories", "Event categories", token, access.Read, false, (*Server).listCategories},
		{"POST", "/api/v1/categories", "addCategory", "Add a local event category (center_admin)", token, access.Configure, true, (*Server).addCategory},
		{"GET", "/api/v1/webhooks", "listWebhooks", "Webhooks under the caller's scope (never their secrets)", token, access.Configure, false, (*Server).listWebhooks},
		{"POST", "/api/v1/webhooks", "putWebhook", "Create or replace a webhook: overdue, 督办, assigned, escalated, returned events and overdue visits, as signed JSON or 企业微信 / 钉钉 markdown", token, access.Configure, false, (*Server).putWebhook},
		{"DELETE", "/api/v1/webhooks/{id}", "deleteWebhook", "Delete a webhook", token, access.Configure, false, (*Server).deleteWebhook},
		{"GET", "/api/v1/webhooks/{id}/deliveries", "webhookDeliveries", "A webhook's delivery log, oldest first (the newest 1,000 are kept)", token, access.Configure, false, (*Server).webhookDeliveries},
		{"GET", "/api/v1/config/sla", "getSLA", "The deadline table in force: working minutes to accept and to resolve, by urgency and category", token, access.Read, false, (*Server).getSLA},
		{"PUT", "/api/v1/config/sla", "setSLA", "Replace the deadline table (center_admin); new reports use it", token, access.Configure, true, (*Server).setSLA},
		{"GET", "/api/v1/config/open311", "getOpen311Config", "The Open311 services anyone may read without a key (none by default)", token, access.Read, false, (*Server).getOpen311Config},
		{"PUT", "/api/v1/config/open311", "setOpen311Config", "Name the Open311 services anyone may read without a key (center_admin)", token, access.Configure, true, (*Server).setOpen311Config},
		{"GET", "/api/v1/config/calendar", "getCalendar", "The working-day calendar: holidays and 调休 working days (YYYY-MM-DD, China time)", token, access.Read, false, (*Server).getCalendar},
		{"PUT", "/api/v1/config/calendar", "setCalendar", "Replace the working-day calendar (center_admin)", token, access.Configure, true, (*Server).setCalendar},
		{"POST", "/api/v1/events", "reportEvent", "Report an event", token, access.Report, false, (*Server).reportEvent},
		{"GET", "/api/v1/events", "listEvents", "List events with filters and a cursor", token, access.Read, false, (*Server).listEvents},
		{"GET", "/api/v1/events/export", "exportEvents", "The events a listing with the same filters holds, as one XLSX or CSV file (?format=xlsx|csv) with Chinese headers", token, access.Read, false, (*Server).exportEvents},
		{"GET", "/api/v1/events/{id}", "getEvent", "One event with its timeline", token, access.Read, false, (*Server).getEvent},
		{"POST", "/api/v1/attachments", "uploadAttachment", "Upload a photo (JPEG, PNG, WebP, GIF) or PDF of at most 10 MiB; answers the ref a report names it by", token, access.Report, false, (*Server).uploadAttachment},
		{"GET", "/api/v1/events/{id}/attachments/{att}", "getAttachment", "An attachment of an event the caller may read, as a download", token, access.Read, false, (*Server).getAttachment},
		{"GET", "/api/v1/events/{id}/contact", "eventContact", "The reporter's name, phone and email in the clear for the 回访 call (?basis=&purpose=; roles that may reveal, audited)", token, access.Reveal, false, (*Server).eventContact},
		{"POST", "/api/v1/events/{id}/actions", "actOnEvent", "Take an action on an event", token, access.Act, false, (*Server).actOnEvent},
		{"GET", "/api/v1/stats", "getStats", "Figures (三率) for a jurisdiction", token, access.Read, false, (*Server).getStats},
		{"GET", "/api/v1/stats/export", "exportFigures", "Figures (三率) of a jurisdiction and each of its children as XLSX or CSV (?period=&category=&format=)", token, access.Read, false, (*Server).exportFigures},
		{"GET", "/api/v1/bulletin", "bulletin", "The monthly 通报: a jurisdiction's townships, grids or departments ranked by 按期办结率, 结案率, 返工率, 延期率 and 满意率, with the counts behind each (?period=YYYYMM&by=&rank_by=)", token, access.Read, false, (*Server).bulletin},
		{"GET", "/api/v1/bulletin/export", "exportBulletin", "The 通报 as XLSX or CSV, with a total row", token, access.Read, false, (*Server).exportBulletin},
		{"GET", "/api/v1/people", "listPeople", "Residents under a jurisdiction, masked (?visits_due_before= for due visits)", token, access.Read, false, (*Server).listPeople},
		{"POST", "/api/v1/people", "addPerson", "Register a resident (name and ID number are sealed)", token, access.Report, false, (*Server).addPerson},
		{"GET", "/api/v1/people/export", "exportPeople", "Residents under a place as XLSX or CSV, masked; ?reveal=true&basis=&purpose= opens names and ID numbers for roles that may reveal (one audit record)", token, access.Read, false, (*Server).exportPeople},
		{"POST", "/api/v1/people/import", "importPeople", "Register residents from an XLSX or CSV 实有人口 table (GB/T 31000 headers); answers NDJSON progress, then what was kept and each refused row by number", token, access.Report, false, (*Server).importPeople},
		{"POST", "/api/v1/people/lookup", "lookupPerson", "Find a person by ID number (in the body, never the URL) through the blind index: roles that may reveal, with a legal basis and purpose, audited found or not", token, access.Reveal, false, (*Server).lookupPerson},
		{"GET", "/api/v1/people/{id}", "getPerson", "One person, masked; ?reveal=true&purpose= decrypts for permitted roles (audited)", token, access.Read, false, (*Server).getPerson},
		{"PATCH", "/api/v1/people/{id}", "updatePerson", "Change a person's name (sealed again), kind, grid within the village or house", token, access.Report, false, (*Server).updatePerson},
		{"POST", "/api/v1/people/{id}/transfer", "transferPerson", "Move a person to another village of this group (迁移), with a reason; across groups use a handover", token, access.ManagePlaces, false, (*Server).transferPerson},
		{"POST", "/api/v1/people/{id}/special", "setSpecial", "Set a special-population record (details sealed)", token, access.Reveal, false, (*Server).setSpecial},
		{"GET", "/api/v1/people/{id}/visits", "listVisits", "A person's visits (走访); ?reveal=true&purpose= opens the notes for permitted roles (audited)", token, access.Read, false, (*Server).listVisits},
		{"POST", "/api/v1/people/{id}/visits", "recordVisit", "Record a visit (the note is sealed)", token, access.Report, false, (*Server).recordVisit},
		{"GET", "/api/v1/houses", "listHouses", "Houses (实有房屋) under a jurisdiction or grid", token, access.Read, false, (*Server).listHouses},
		{"POST", "/api/v1/houses", "addHouse", "Register a house", token, access.Report, false, (*Server).addHouse},
		{"POST", "/api/v1/houses/import", "importHouses", "Register houses from an XLSX or CSV 实有房屋 table; answers NDJSON progress, then what was kept and each refused row by number", token, access.Report, false, (*Server).importHouses},
		{"GET", "/api/v1/houses/{id}", "getHouse", "One house with its residents, masked", token, access.Read, false, (*Server).getHouse},
		{"PATCH", "/api/v1/houses/{id}", "updateHouse", "Change a house's address, use, rented flag or grid (the grid only while nobody lives there)", token, access.Report, false, (*Server).updateHouse},
		{"POST", "/api/v1/houses/{id}/retire", "retireHouse", "Take a house out of use once nobody lives there", token, access.ManagePlaces, false, (*Server).retireHouse},
		{"GET", "/api/v1/party/orgs", "listOrgs", "Party organisations under a jurisdiction", token, access.Read, false, (*Server).listOrgs},
		{"POST", "/api/v1/party/orgs", "putOrg", "Create or update a party organisation", token, access.ManagePlaces, false, (*Server).putOrg},
		{"GET", "/api/v1/party/members", "listMembers", "An org's members (?org=)", token, access.Read, false, (*Server).listMembers},
		{"GET", "/api/v1/party/activities", "listActivities", "An org's activities by date (?org=): 三会一课, 主题党日, with attendance", token, access.Read, false, (*Server).listActivities},
		{"POST", "/api/v1/party/members", "putMember", "Create or update a member", token, access.ManagePlaces, false, (*Server).putMember},
		{"POST", "/api/v1/party/activities", "recordActivity", "Record a meeting (三会一课, 主题党日) with attendance", token, access.Report, false, (*Server).recordActivity},
		{"GET", "/api/v1/party/coverage", "partyCoverage", "Grids with no branch or group; orgs behind schedule", token, access.Read, false, (*Server).coverage},
		{"GET", "/api/v1/tokens", "listTokens", "API tokens within the caller's scope (never secrets)", token, access.Tokens, false, (*Server).listTokens},
		{"POST", "/api/v1/tokens", "createToken", "Issue a token no wider than the caller's scope; the secret is shown once", token, access.Tokens, false, (*Server).createToken},
		{"DELETE", "/api/v1/tokens/{id}", "revokeToken", "Revoke a token", token, access.Tokens, false, (*Server).revokeToken},
		{"GET", "/api/v1/tokens/staff", "listStaffTokens", "The tokens of the caller's staff: roles no higher than its own, within its scope (a township operator's grid workers)", token, access.IssueStaff, false, (*Server).listStaffTokens},
		{"POST", "/api/v1/tokens/staff", "createStaffToken", "Issue a token for the caller's own staff: a role no higher than its own, within its scope; the secret is shown once", token, access.IssueStaff, false, (*Server).createStaffToken},
		{"DELETE", "/api/v1/tokens/staff/{id}", "revokeStaffToken", "Revoke a token of the caller's staff", token, access.IssueStaff, false, (*Server).revokeStaffToken},
		{"POST", "/api/v1/tokens/split-roles", "splitRoles", "Once, on a group made before 三员分立: auditor tokens become audit_admin and the first security_admin and system_admin tokens are issued", token, access.SplitRoles, true, (*Server).splitRoles},
		{"POST", "/api/v1/tokens/tidy", "tidyTokens", "Delete the caller's subtree's revoked tokens and those expired before expired_before (default now)", token, access.Tokens, false, (*Server).tidyTokens},
		{"GET", "/open311/v2/discovery.json", "open311Discovery", "Open311 service discovery: the endpoint and its formats", public, 0, false, (*Server).o311Discovery},
		{"GET", "/open311/v2/discovery.xml", "open311DiscoveryXML", "Open311 service discovery, as XML", public, 0, false, (*Server).o311Discovery},
		{"GET", "/open311/v2/services.json", "open311Services", "Open311 GeoReport v2: services (event categories)", token, access.Read, false, (*Server).o311Services},
		{"GET", "/open311/v2/services.xml", "open311ServicesXML", "Open311: services, as XML", token, access.Read, false, (*Server).o311Services},
		{"GET", "/open311/v2/services/{file}", "open311Service", "Open311: a service definition ({code}.json or .xml)", token, access.Read, false, (*Server).o311Service},
		{"POST", "/open311/v2/requests.json", "open311Create", "Open311: create a service request (form-encoded)", token, access.Report, false, (*Server).o311Create},
		{"POST", "/open311/v2/requests.xml", "open311CreateXML", "Open311: create a service request, answered as XML", token, access.Report, false, (*Server).o311Create},
		{"GET", "/open311/v2/requests.json", "open311List", "Open311: service requests (service_request_id, service_code and status as lists, start_date, end_date; the last 90 days and the first 1,000 by default)", token, access.Read, false, (*Server).o311List},
		{"GET", "/open311/v2/requests.xml", "open311ListXML", "Open311: service requests, as XML", token, access.Read, false, (*Server).o311List},
		{"GET", "/open311/v2/requests/{file}", "open311Get", "Open311: one service request ({id}.json or .xml)", token, access.Read, false, (*Server).o311Get},
		{"GET", "/api/v1/cluster/peers", "listPeers", "The replicas of this node's Raft group", token, access.ClusterRead, true, (*Server).listPeers},
		{"POST", "/api/v1/cluster/peers", "addPeer", "Add a replica (voter or non-voter) to the group", token, access.System, true, (*Server).addPeer},
		{"DELETE", "/api/v1/cluster/peers/{id}", "removePeer", "Remove a replica from the group", token, access.System, true, (*Server).removePeer},
		{"GET", "/api/v1/cluster/digest", "stateDigest", "This replica's state digest and applied log index (compare replicas; as etcd's hashkv)", token, access.ClusterRead, true, (*Server).stateDigest},
		{"POST", "/api/v1/cluster/leader", "transferLeader", "Hand leadership to a voter (id \"\": any sound one; force: even one found diverged)", token, access.System, true, (*Server).transferLeader},
		{"GET", "/api/v1/cases", "listCases", "Cross-region cases (跨区域互涉案事件) this jurisdiction takes part in", token, access.Read, false, (*Server).listCases},
		{"POST", "/api/v1/cases", "openCase", "Open a case led (主办) by this jurisdiction with co-handlers (协办)", token, access.Report, false, (*Server).openCase},
		{"GET", "/api/v1/cases/{id}", "getCase", "One case with its timeline in hybrid-logical-clock order", token, access.Read, false, (*Server).getCase},
		{"PATCH", "/api/v1/cases/{id}", "updateCase", "Change a case's status or hand the lead over (lead only)", token, access.Act, false, (*Server).updateCase},
		{"GET", "/api/v1/cases/{id}/entries", "listCaseEntries", "A case's timeline entries", token, access.Read, false, (*Server).listCaseEntries},
		{"POST", "/api/v1/cases/{id}/entries", "addCaseEntry", "Add a timeline entry (works while cut off; merges on heal)", token, access.Report, false, (*Server).addCaseEntry},
		{"GET", "/api/v1/handovers", "listHandovers", "Person handovers (衔接) of special-population subjects, both ways (?status=pending for those waiting to be accepted); subjects masked", token, access.Reveal, true, (*Server).listHandovers},
		{"POST", "/api/v1/handovers", "openHandover", "Hand a special-population subject over to a peer jurisdiction, to be accepted by a deadline", token, access.Reveal, true, (*Server).openHandover},
		{"POST", "/api/v1/handovers/{id}/accept", "acceptHandover", "Accept an incoming handover", token, access.Reveal, true, (*Server).acceptHandover},
		{"GET", "/api/v1/federation/members", "federationMembers", "This node's view of the federation pool and each jurisdiction's leader", token, access.ClusterRead, true, (*Server).federationMembers},
		{"GET", "/api/v1/federation/links", "federationLinks", "Exchange links: sequences, depth, oldest waiting message, refusals, transport record", token, access.ClusterRead, true, (*Server).federationLinks},
		{"GET", "/api/v1/changes/stream", "streamChanges", "The change feed as server-sent events from a sequence number (?after= or Last-Event-ID; now by default), as the token may see it: the console's live updates", token, access.Read, false, (*Server).streamChanges},
		{"GET", "/api/v1/changes", "listChanges", "The change feed after a sequence number (after, limit), as the token may see it", token, access.Read, false, (*Server).listChanges},
		{"GET", "/api/v1/audit", "listAudit", "Audit records after a sequence number", token, access.Audit, true, (*Server).listAudit},
		{"GET", "/api/v1/audit/verify", "verifyAudit", "Verify the audit hash chain", token, access.Audit, true, (*Server).verifyAudit},
		{"POST", "/api/v1/audit/verify", "verifyAuditWitnessed", "Verify the audit hash chain and check it against witnesses its parent holds (audit verify --witness)", token, access.Audit, true, (*Server).verifyWitnessed},
		{"GET", "/api/v1/audit/witnesses", "listWitnesses", "The chain heads a child jurisdiction sent here (?origin=CODE&after=SEQ)", token, access.Audit, true, (*Server).listWitnesses},
		{"GET", "/api/v1/keys", "sealCensus", "Sealed values by key generation, and the generation this node seals with (never key material)", token, access.System, true, (*Server).sealCensus},
		{"POST", "/api/v1/keys/reseal", "reseal", "One pass resealing up to max old values under this node's current generation", token, access.System, true, (*Server).reseal},
		{"GET", "/api/v1/forms", "listForms", "The forms running plugins declare for reports and events, each with its fields' JSON Schema (the console and Open311's service attributes render them)", token, access.Read, false, (*Server).listForms},
		{"GET", "/api/v1/plugins", "listPlugins", "The plugin catalog: versions, the one that runs, each node's binary, and this node's state of each plugin", token, access.System, true, (*Server).listPlugins},
		{"POST", "/api/v1/plugins", "registerPlugin", "Register a binary in the plugin directory: started once with its checksum checked, it says its name, version and hooks", token, access.System, true, (*Server).registerPlugin},
		{"GET", "/api/v1/plugins/{name}", "getPlugin", "One plugin's catalog entry and its state here", token, access.System, true, (*Server).getPlugin},
		{"POST", "/api/v1/plugins/{name}/enable", "enablePlugin", "Run a registered version, once every voter reports its binary (an upgrade is this, with a newer version)", token, access.System, true, (*Server).enablePlugin},
		{"POST", "/api/v1/plugins/{name}/disable", "disablePlugin", "Stop running a plugin", token, access.System, true, (*Server).disablePlugin},
		{"GET", pluginRoutes, "pluginGet", "A plugin's own route (the document lists each)", token, access.Read, false, (*Server).pluginRoute},
		{"POST", pluginRoutes, "pluginPost", "A plugin's own route (the document lists each)", token, access.Read, false, (*Server).pluginRoute},
		{"PUT", pluginRoutes, "pluginPut", "A plugin's own route (the document lists each)", token, access.Read, false, (*Server).pluginRoute},
		{"PATCH", pluginRoutes, "pluginPatch", "A plugin's own route (the document lists each)", token, access.Read, false, (*Server).pluginRoute},
		{"DELETE", pluginRoutes, "pluginDelete", "A plugin's own route (the document lists each)", token, access.Read, false, (*Server).pluginRoute},
		{"GET", "/api/v1/backup", "backup", "Stream a consistent backup of the state", token, access.System, true, (*Server).backup},
		{"POST", "/api/v1/restore", "restore", "Replace the group's state with a backup (disaster recovery)", token, access.System, true, (*Server).restore},
	}
}

// New builds the API over a backend.
func New(b Backend, log *slog.Logger) *Server {
	s := &Server{b: b, log: log, mux: http.NewServeMux()}
	s.lock = newLockout(time.Now)
	allow := map[string][]string{}
	for _, rt := range routes {
		s.mux.HandleFunc(rt.method+" "+rt.path, s.wrap(rt))
		allow[rt.path] = append(allow[rt.path], rt.method)
	}
	// Other methods on a known path, and unknown paths, answer problem+json too.
	for path, methods := range allow {
		notAllowed := func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", strings.Join(methods, ", "))
			writeProblem(w, r, &errs.FieldError{Kind: errMethod, Field: "method", Rule: "allowed", Msg: r.Method + " is not allowed here; use " + strings.Join(methods, " or ")})
		}
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			if !slices.Contains(methods, m) {
				s.mux.HandleFunc(m+" "+path, notAllowed)
			}
		}
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if s.Console != nil && !strings.HasPrefix(r.URL.Path, "/api/") && !strings.HasPrefix(r.URL.Path, "/open311/") && s.Console.Serves(r.URL.Path) {
			s.Console.ServeHTTP(w, r)
			return
		}
		writeProblem(w, r, errs.NotFound("path", "no such endpoint %s", r.URL.Path))
	})
	return s
}

// ConsoleHandler serves the web console's own paths.
type ConsoleHandler interface {
	http.Handler
	// Serves reports whether a path is the console's.
	Serves(path string) bool
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (to flush a
// streamed answer).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// wrap authenticates, runs the handler, turns errors into problems, and logs
// the method, route pattern, status and duration — never query values,
// bodies or tokens, which may hold personal data or secrets.
func (s *Server) wrap(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: 200}
		var tk *model.Token
		err := func() error {
			if err := checkQuery(r.URL.RawQuery); err != nil {
				return err
			}
			if !rt.public && !(anonOps[rt.op] && !hasCredential(r)) {
				var err error
				if tk, err = s.authenticate(sw, r); err != nil {
					return err
				}
				if err := s.authorize(tk, rt); err != nil {
					return err
				}
				// Commands carry the token's scope: apply refuses to change
				// anything outside it, whatever a handler checked first.
				ctx := core.WithScope(core.WithActor(withToken(r.Context(), tk), "token:"+tk.ID), tk.Scope)
				if key := r.Header.Get("Idempotency-Key"); key != "" && rt.method == http.MethodPost {
					// Keys are scoped to the token, so two callers cannot collide.
					if ctx, err = core.WithIdempotencyKey(ctx, tk.ID+":"+key); err != nil {
						return err
					}
					digest, err := requestDigest(r)
					if err != nil {
						return err
					}
					ctx = core.WithRequestDigest(ctx, digest)
				}
				r = r.WithContext(ctx)
			}
			return rt.h(s, sw, r)
		}()
		if errors.Is(err, errs.ErrKeyReused) {
			err = &errs.FieldError{Kind: errs.ErrKeyReused, Field: "Idempotency-Key", Rule: "reused",
				Msg: fmt.Sprintf("Idempotency-Key %q was used for a different request; a new request needs a new key", r.Header.Get("Idempotency-Key"))}
		}
		if err != nil {
			writeProblem(sw, r, err)
		}
		if tk != nil && sw.status == http.StatusForbidden {
			// A refused authorization is an audit record (等保 2.0).
			s.audit(r, state.AuditEvent{Kind: state.AuditDenied, Token: tk.ID, Role: tk.Role, Detail: errs.Field(err) + ": " + rule(err)})
		}
		if s.Observe != nil {
			s.Observe(rt.method, rt.path, sw.status, time.Since(start))
		}
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		// The access log: who (token id and role, never the secret), from
		// where, which route (the pattern: no ids, no query values), and
		// the outcome.
		attrs := []any{"method", rt.method, "route", rt.path, "status", sw.status, "ms", time.Since(start).Milliseconds(), "client", clientAddr(r)}
		if tk != nil {
			attrs = append(attrs, "token", tk.ID, "role", tk.Role)
		}
		if sw.status >= 500 && err != nil {
			attrs = append(attrs, "err", err.Error())
		}
		s.log.Log(r.Context(), level, "http", attrs...)
	}
}
