package api

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/model"
)

// The authorization matrix (issue 21 point 9): every route of the route
// table × every role × tokens scoped to a township and to the county × an
// object of the token's own township, a sibling township, the county above
// and another county; plus no, revoked, expired, tampered and truncated
// tokens. Each cell's status is what the tables below say; no answer to a
// township's token carries anything of the sibling township. The tables
// are the specification, written apart from the code: a route the route
// table gains without an entry here fails the test, and so does a role
// whose permissions drift from expectedRoles.

// expectedRoles is who holds each permission.
var expectedRoles = map[access.Perm][]string{
	access.Read: {access.GridWorker, access.CommunityOperator, access.TownshipOperator, access.CenterAdmin, access.DepartmentHandler,
		access.AuditAdmin},
	access.Report:       {access.GridWorker, access.CommunityOperator, access.TownshipOperator, access.CenterAdmin},
	access.Act:          {access.GridWorker, access.CommunityOperator, access.TownshipOperator, access.CenterAdmin, access.DepartmentHandler},
	access.ManagePlaces: {access.TownshipOperator, access.CenterAdmin},
	access.Reveal:       {access.CommunityOperator, access.TownshipOperator, access.CenterAdmin},
	access.ClusterRead:  {access.CenterAdmin, access.SystemAdmin},
	access.System:       {access.SystemAdmin},
	access.Tokens:       {access.SecurityAdmin},
	access.Audit:        {access.AuditAdmin},
	access.Configure:    {access.CenterAdmin},
	access.SplitRoles:   {access.CenterAdmin},
	access.IssueStaff:   {access.TownshipOperator},
	access.Self:         access.Assignable,
}

// Where the object a request names lies, from a township token's view.
type position int

const (
	own       position = iota // the token's township (A, 511083001)
	sibling                   // another township of the county (B, 511083002)
	above                     // the county itself (511083)
	elsewhere                 // another county (500110), which this node does not hold
	noObject                  // the route names no placed object
)

var positions = []position{own, sibling, above, elsewhere}

func (p position) String() string {
	return [...]string{"own", "sibling", "above", "elsewhere", "-"}[p]
}

// matrixObjects are what the requests name, by position.
type matrixObjects struct {
	jur, village, grid, point, event, person, org, token map[position]string
	house                                                map[position]string
	att                                                  string // an attachment every matrix event names
	hook                                                 map[position]string
	newHook                                              func(p position) string // a fresh webhook for each delete
	idNumber                                             map[position]string
	caseID                                               string
}

// cell is how a request is refused, or "ok": any answer that is not a
// refusal of authentication or authorization.
type cell string

const (
	ok           cell = "ok"
	unauthorized cell = "401"
	forbidden    cell = "403"
	notFound     cell = "404"
)

// routeSpec is one route as the matrix expects it.
type routeSpec struct {
	perm access.Perm
	wide bool // the token must cover the whole group
	// build makes the request naming an object at pos (noObject: the
	// route names none and is built once).
	build func(o *matrixObjects, pos position) (method, path string, body any)
	// kind: "object" (404 outside the scope), "case" (the group's own:
	// 404 unless the token covers the group), "none".
	kind string
	// special also needs sight of special-population records.
	special bool
	// okStatus lists answers that count as allowed although they are a 404
	// from the node itself (a peer that does not exist).
	okStatus []int
	// noAbove: no such object can lie at the county level itself (grids
	// and people are in villages), so the county position is not asked.
	noAbove bool
	// inner, when set, is the permission the handler asks beyond the
	// table's (a plugin's route declares its own).
	inner *access.Perm
	// dispatched: a department_handler acts only on events dispatched to
	// it, and the matrix's events are dispatched to no one (403).
	dispatched bool
}

func matrixSpecs() map[string]routeSpec {
	q := func(path string) func(*matrixObjects, position) (string, string, any) {
		return func(*matrixObjects, position) (string, string, any) { return "GET", path, nil }
	}
	post := func(path string, body any) func(*matrixObjects, position) (string, string, any) {
		return func(*matrixObjects, position) (string, string, any) { return "POST", path, body }
	}
	listUnder := func(path string) func(*matrixObjects, position) (string, string, any) {
		return func(o *matrixObjects, p position) (string, string, any) {
			return "GET", path + "?jurisdiction=" + o.jur[p], nil
		}
	}
	obj := func(method, pattern string, pick func(*matrixObjects, position) string, body any) func(*matrixObjects, position) (string, string, any) {
		return func(o *matrixObjects, p position) (string, string, any) {
			return method, regexp.MustCompile(`\{\w+\}`).ReplaceAllString(pattern, pick(o, p)), body
		}
	}
	ev := func(o *matrixObjects, p position) string { return o.event[p] }
	person := func(o *matrixObjects, p position) string { return o.person[p] }
	house := func(o *matrixObjects, p position) string { return o.house[p] }
	grid := func(o *matrixObjects, p position) string { return o.grid[p] }
	caseOf := func(o *matrixObjects, _ position) string { return o.caseID }
	visit := map[string]any{"at": "2026-11-01T02:00:00Z", "visitor": "网格员", "method": "home", "found": true}
	special := map[string]any{"category": "released", "level": 1, "since": "2025-01-01T00:00:00Z", "details": map[string]any{"release_date": "2025-06-01"}}
	return map[string]routeSpec{
		"getJurisdiction": {perm: access.Read, kind: "object", build: obj("GET", "/api/v1/jurisdictions/{code}", func(o *matrixObjects, p position) string { return o.jur[p] }, nil)},
		"loadDivisions":   {perm: access.System, wide: true, kind: "none", build: post("/api/v1/jurisdictions", map[string]any{"divisions": []any{}})},
		"listGrids":       {perm: access.Read, kind: "object", build: listUnder("/api/v1/grids")},
		"createGrid": {perm: access.ManagePlaces, kind: "object", noAbove: true, build: func(o *matrixObjects, p position) (string, string, any) {
			return "POST", "/api/v1/grids", map[string]any{"type": "Feature", "geometry": map[string]any{"type": "Polygon"},
				"properties": map[string]any{"code": o.village[p] + "901", "name": "新网格", "jurisdiction": o.village[p]}}
		}},
		"locateGrid": {perm: access.Read, kind: "object", noAbove: true, build: func(o *matrixObjects, p position) (string, string, any) {
			return "GET", "/api/v1/grids/locate?" + o.point[p], nil
		}},
		"updateGrid": {perm: access.ManagePlaces, kind: "object", noAbove: true, build: obj("PUT", "/api/v1/grids/{code}", grid, map[string]any{"type": "Feature", "geometry": map[string]any{"type": "Polygon"}, "properties": map[string]any{"name": "改"}})},
		"retireGrid": {perm: access.ManagePlaces, kind: "object", noAbove: true, build: obj("POST", "/api/v1/grids/{code}/retire", grid, map[string]any{"reason": ""})},
		"assignWorker": {perm: access.ManagePlaces, kind: "object", noAbove: true, build: func(o *matrixObjects, p position) (string, string, any) {
			return "PUT", "/api/v1/grids/" + o.grid[p] + "/workers/w-own", map[string]any{"role": "part_time"}
		}},
		"removeWorker": {perm: access.ManagePlaces, kind: "object", noAbove: true, build: func(o *matrixObjects, p position) (string, string, any) {
			return "DELETE", "/api/v1/grids/" + o.grid[p] + "/workers/w-own", nil
		}},
		"putWorker": {perm: access.ManagePlaces, kind: "object", noAbove: true, build: func(o *matrixObjects, p position) (string, string, any) {
			return "POST", "/api/v1/workers", map[string]any{"id": "w-" + p.String(), "name": "网格员", "jurisdiction": o.village[p]}
		}},
		"getGrid":        {perm: access.Read, kind: "object", noAbove: true, build: obj("GET", "/api/v1/grids/{code}", func(o *matrixObjects, p position) string { return o.grid[p] }, nil)},
		"listCategories": {perm: access.Read, kind: "none", build: q("/api/v1/categories")},
		"addCategory":    {perm: access.Configure, wide: true, kind: "none", build: post("/api/v1/categories", map[string]any{"code": "", "name": "x"})},
		"listWebhooks":   {perm: access.Configure, kind: "none", build: q("/api/v1/webhooks")},
		"putWebhook": {perm: access.Configure, kind: "object", build: func(o *matrixObjects, p position) (string, string, any) {
			return "POST", "/api/v1/webhooks", map[string]any{"name": "矩阵", "url": "https://example.com/hook", "events": []string{"overdue"}, "under": o.jur[p]}
		}},
		"deleteWebhook":     {perm: access.Configure, kind: "object", build: obj("DELETE", "/api/v1/webhooks/{id}", func(o *matrixObjects, p position) string { return o.newHook(p) }, nil)},
		"webhookDeliveries": {perm: access.Configure, kind: "object", build: obj("GET", "/api/v1/webhooks/{id}/deliveries", func(o *matrixObjects, p position) string { return o.hook[p] }, nil)},
		"getOpen311Config":  {perm: access.Read, kind: "none", build: q("/api/v1/config/open311")},
		"setOpen311Config": {perm: access.Configure, wide: true, kind: "none", build: func(*matrixObjects, position) (string, string, any) {
			return "PUT", "/api/v1/config/open311", map[string]any{"public_services": []string{"no-such-service"}}
		}},
		"getSLA": {perm: access.Read, kind: "none", build: q("/api/v1/config/sla")},
		"setSLA": {perm: access.Configure, wide: true, kind: "none", build: func(*matrixObjects, position) (string, string, any) {
			return "PUT", "/api/v1/config/sla", map[string]any{"default": map[string]any{}}
		}},
		"getCalendar": {perm: access.Read, kind: "none", build: q("/api/v1/config/calendar")},
		"setCalendar": {perm: access.Configure, wide: true, kind: "none", build: func(*matrixObjects, position) (string, string, any) {
			return "PUT", "/api/v1/config/calendar", map[string]any{"holidays": []string{"not a date"}}
		}},
		"reportEvent": {perm: access.Report, kind: "object", build: func(o *matrixObjects, p position) (string, string, any) {
			return "POST", "/api/v1/events", map[string]any{"category": "dispute", "description": "矩阵", "jurisdiction": o.jur[p]}
		}},
		"exportFigures": {perm: access.Read, kind: "object", build: listUnder("/api/v1/stats/export")},
		"bulletin": {perm: access.Read, kind: "object", build: func(o *matrixObjects, p position) (string, string, any) {
			return "GET", "/api/v1/bulletin?period=202612&jurisdiction=" + o.jur[p], nil
		}},
		"exportBulletin": {perm: access.Read, kind: "object", build: func(o *matrixObjects, p position) (string, string, any) {
			return "GET", "/api/v1/bulletin/export?period=202612&jurisdiction=" + o.jur[p], nil
		}},
		"exportEvents":     {perm: access.Read, kind: "object", build: listUnder("/api/v1/events/export")},
		"exportPeople":     {perm: access.Read, kind: "object", build: listUnder("/api/v1/people/export")},
		"listEvents":       {perm: access.Read, kind: "object", build: listUnder("/api/v1/events")},
		"getEvent":         {perm: access.Read, kind: "object", build: obj("GET", "/api/v1/events/{id}", ev, nil)},
		"uploadAttachment": {perm: access.Report, kind: "none", build: post("/api/v1/attachments", []byte("GIF89a matrix"))},
		"getAttachment": {perm: access.Read, kind: "object", build: func(o *matrixObjects, p position) (string, string, any) {
			return "GET", "/api/v1/events/" + o.event[p] + "/attachments/" + o.att, nil
		}},
		"eventContact": {perm: access.Reveal, kind: "object", build: obj("GET", "/api/v1/events/{id}/contact?basis=visit&purpose=%E5%9B%9E%E8%AE%BF", ev, nil)},
		"actOnEvent":   {perm: access.Act, kind: "object", dispatched: true, build: obj("POST", "/api/v1/events/{id}/actions", ev, map[string]any{"action": "comment", "note": "矩阵"})},
		"getStats":     {perm: access.Read, kind: "object", build: listUnder("/api/v1/stats")},
		"listPeople":   {perm: access.Read, kind: "object", build: listUnder("/api/v1/people")},
		"addPerson": {perm: access.Report, kind: "object", noAbove: true, build: func(o *matrixObjects, p position) (string, string, any) {
			return "POST", "/api/v1/people", map[string]any{"name": "矩阵", "id_number": validID(900 + int(p)), "kind": "registered", "jurisdiction": o.village[p]}
		}},
		"getPerson": {perm: access.Read, kind: "object", noAbove: true, build: obj("GET", "/api/v1/people/{id}", person, nil)},
		"lookupPerson": {perm: access.Reveal, kind: "object", noAbove: true, build: func(o *matrixObjects, p position) (string, string, any) {
			return "POST", "/api/v1/people/lookup", map[string]any{"id_number": o.idNumber[p], "basis": "visit", "purpose": "矩阵"}
		}},
		"updatePerson": {perm: access.Report, kind: "object", noAbove: true, build: obj("PATCH", "/api/v1/people/{id}", person, map[string]any{"kind": "floating"})},
		"transferPerson": {perm: access.ManagePlaces, kind: "object", noAbove: true, build: func(o *matrixObjects, p position) (string, string, any) {
			return "POST", "/api/v1/people/" + o.person[p] + "/transfer", map[string]any{"jurisdiction": o.village[p], "reason": "搬家"}
		}},
		"setSpecial":   {perm: access.Reveal, kind: "object", noAbove: true, build: obj("POST", "/api/v1/people/{id}/special", person, special)},
		"listVisits":   {perm: access.Read, kind: "object", noAbove: true, special: true, build: obj("GET", "/api/v1/people/{id}/visits", person, nil)},
		"recordVisit":  {perm: access.Report, kind: "object", noAbove: true, special: true, build: obj("POST", "/api/v1/people/{id}/visits", person, visit)},
		"importPeople": {perm: access.Report, kind: "none", build: post("/api/v1/people/import?format=csv", "姓名\n")},
		"importHouses": {perm: access.Report, kind: "none", build: post("/api/v1/houses/import?format=csv", "地址\n")},
		"listHouses":   {perm: access.Read, kind: "object", build: listUnder("/api/v1/houses")},
		"addHouse": {perm: access.Report, kind: "object", noAbove: true, build: func(o *matrixObjects, p position) (string, string, any) {
			return "POST", "/api/v1/houses", map[string]any{"address": "矩阵路 2 号", "jurisdiction": o.village[p]}
		}},
		"getHouse":    {perm: access.Read, kind: "object", noAbove: true, build: obj("GET", "/api/v1/houses/{id}", house, nil)},
		"updateHouse": {perm: access.Report, kind: "object", noAbove: true, build: obj("PATCH", "/api/v1/houses/{id}", house, map[string]any{"rented": true})},
		"retireHouse": {perm: access.ManagePlaces, kind: "object", noAbove: true, build: obj("POST", "/api/v1/houses/{id}/retire", house, map[string]any{"reason": "拆除"})},
		"listOrgs":    {perm: access.Read, kind: "object", build: listUnder("/api/v1/party/orgs")},
		"putOrg": {perm: access.ManagePlaces, kind: "object", build: func(o *matrixObjects, p position) (string, string, any) {
			return "POST", "/api/v1/party/orgs", map[string]any{"id": o.org[p], "name": "党组织", "kind": "committee", "jurisdiction": o.jur[p]}
		}},
		"listMembers": {perm: access.Read, kind: "object", build: func(o *matrixObjects, p position) (string, string, any) {
			return "GET", "/api/v1/party/members?org=" + o.org[p], nil
		}},
		"listActivities": {perm: access.Read, kind: "object", build: func(o *matrixObjects, p position) (string, string, any) {
			return "GET", "/api/v1/party/activities?org=" + o.org[p], nil
		}},
		"putMember": {perm: access.ManagePlaces, kind: "object", build: func(o *matrixObjects, p position) (string, string, any) {
			return "POST", "/api/v1/party/members", map[string]any{"id": "m-" + p.String(), "name": "党员", "org": o.org[p], "status": "full"}
		}},
		"recordActivity": {perm: access.Report, kind: "object", build: func(o *matrixObjects, p position) (string, string, any) {
			return "POST", "/api/v1/party/activities", map[string]any{"org": o.org[p], "kind": "theme_day", "date": "2026-11-01", "topic": "主题党日", "attendees": []string{}}
		}},
		"partyCoverage": {perm: access.Read, kind: "object", build: listUnder("/api/v1/party/coverage")},
		"listTokens":    {perm: access.Tokens, kind: "none", build: q("/api/v1/tokens")},
		"createToken": {perm: access.Tokens, kind: "object", build: func(o *matrixObjects, p position) (string, string, any) {
			return "POST", "/api/v1/tokens", map[string]any{"name": "矩阵", "role": "grid_worker", "scope": o.jur[p]}
		}},
		"revokeToken":     {perm: access.Tokens, kind: "object", build: obj("DELETE", "/api/v1/tokens/{id}", func(o *matrixObjects, p position) string { return o.token[p] }, nil)},
		"listStaffTokens": {perm: access.IssueStaff, kind: "none", build: q("/api/v1/tokens/staff")},
		"createStaffToken": {perm: access.IssueStaff, kind: "object", build: func(o *matrixObjects, p position) (string, string, any) {
			return "POST", "/api/v1/tokens/staff", map[string]any{"name": "网格员", "role": "grid_worker", "scope": o.jur[p]}
		}},
		"revokeStaffToken":   {perm: access.IssueStaff, kind: "object", build: obj("DELETE", "/api/v1/tokens/staff/{id}", func(o *matrixObjects, p position) string { return o.token[p] }, nil)},
		"splitRoles":         {perm: access.SplitRoles, wide: true, kind: "none", build: post("/api/v1/tokens/split-roles", map[string]any{})},
		"tidyTokens":         {perm: access.Tokens, kind: "none", build: post("/api/v1/tokens/tidy", map[string]any{})},
		"open311Services":    {perm: access.Read, kind: "none", build: q("/open311/v2/services.json")},
		"open311Create":      {perm: access.Report, kind: "none", build: func(*matrixObjects, position) (string, string, any) { return "POST", "/open311/v2/requests.json", "" }},
		"open311ServicesXML": {perm: access.Read, kind: "none", build: q("/open311/v2/services.xml")},
		"open311Service":     {perm: access.Read, kind: "none", build: q("/open311/v2/services/dispute.json")},
		"open311CreateXML":   {perm: access.Report, kind: "none", build: func(*matrixObjects, position) (string, string, any) { return "POST", "/open311/v2/requests.xml", "" }},
		"open311ListXML":     {perm: access.Read, kind: "none", build: q("/open311/v2/requests.xml")},
		"open311List":        {perm: access.Read, kind: "none", build: q("/open311/v2/requests.json")},
		"open311Get":         {perm: access.Read, kind: "object", build: obj("GET", "/open311/v2/requests/{file}", func(o *matrixObjects, p position) string { return o.event[p] + ".json" }, nil)},
		"listPeers":          {perm: access.ClusterRead, wide: true, kind: "none", build: q("/api/v1/cluster/peers")},
		"addPeer":            {perm: access.System, wide: true, kind: "none", build: post("/api/v1/cluster/peers", map[string]any{"id": "n9", "address": "nowhere"})},
		"removePeer": {perm: access.System, wide: true, kind: "none", okStatus: []int{404}, build: func(*matrixObjects, position) (string, string, any) {
			return "DELETE", "/api/v1/cluster/peers/ghost", nil
		}},
		"stateDigest":          {perm: access.ClusterRead, wide: true, kind: "none", build: q("/api/v1/cluster/digest")},
		"transferLeader":       {perm: access.System, wide: true, kind: "none", build: post("/api/v1/cluster/leader", map[string]any{"id": ""})},
		"listCases":            {perm: access.Read, kind: "case", build: q("/api/v1/cases")},
		"openCase":             {perm: access.Report, kind: "case", build: post("/api/v1/cases", map[string]any{"title": "边界纠纷", "participants": []string{"500153"}})},
		"getCase":              {perm: access.Read, kind: "case", build: obj("GET", "/api/v1/cases/{id}", caseOf, nil)},
		"updateCase":           {perm: access.Act, kind: "case", build: obj("PATCH", "/api/v1/cases/{id}", caseOf, map[string]any{"status": "in_progress"})},
		"listCaseEntries":      {perm: access.Read, kind: "case", build: obj("GET", "/api/v1/cases/{id}/entries", caseOf, nil)},
		"addCaseEntry":         {perm: access.Report, kind: "case", build: obj("POST", "/api/v1/cases/{id}/entries", caseOf, map[string]any{"text": "矩阵"})},
		"federationMembers":    {perm: access.ClusterRead, wide: true, kind: "none", okStatus: []int{404}, build: q("/api/v1/federation/members")},
		"federationLinks":      {perm: access.ClusterRead, wide: true, kind: "none", build: q("/api/v1/federation/links")},
		"listChanges":          {perm: access.Read, kind: "none", build: q("/api/v1/changes?limit=1000")},
		"streamChanges":        {perm: access.Read, kind: "none", build: q("/api/v1/changes/stream?after=0")},
		"session":              {perm: access.Self, kind: "none", build: q("/api/v1/session")},
		"listForms":            {perm: access.Read, kind: "none", build: q("/api/v1/forms")},
		"listHandovers":        {perm: access.Reveal, wide: true, kind: "none", build: q("/api/v1/handovers")},
		"openHandover":         {perm: access.Reveal, wide: true, kind: "none", build: post("/api/v1/handovers", map[string]any{"person": "", "to": ""})},
		"acceptHandover":       {perm: access.Reveal, wide: true, kind: "none", okStatus: []int{404}, build: post("/api/v1/handovers/no-such/accept", nil)},
		"listAudit":            {perm: access.Audit, wide: true, kind: "none", build: q("/api/v1/audit?limit=5")},
		"verifyAudit":          {perm: access.Audit, wide: true, kind: "none", build: q("/api/v1/audit/verify")},
		"verifyAuditWitnessed": {perm: access.Audit, wide: true, kind: "none", build: post("/api/v1/audit/verify", map[string]any{"witnesses": []any{}})},
		"listWitnesses":        {perm: access.Audit, wide: true, kind: "none", build: q("/api/v1/audit/witnesses?origin=511083001")},
		"sealCensus":           {perm: access.System, wide: true, kind: "none", build: q("/api/v1/keys")},
		"reseal":               {perm: access.System, wide: true, kind: "none", build: post("/api/v1/keys/reseal", map[string]any{})},
		"backup":               {perm: access.System, wide: true, kind: "none", build: q("/api/v1/backup")},
		"restore":              {perm: access.System, wide: true, kind: "none", build: post("/api/v1/restore", "")},
		"listPlugins":          {perm: access.System, wide: true, kind: "none", build: q("/api/v1/plugins")},
		"registerPlugin":       {perm: access.System, wide: true, kind: "none", build: post("/api/v1/plugins", map[string]any{})},
		"getPlugin":            {perm: access.System, wide: true, kind: "none", build: q("/api/v1/plugins/board")},
		"enablePlugin":         {perm: access.System, wide: true, kind: "none", okStatus: []int{404}, build: post("/api/v1/plugins/ghost/enable", map[string]any{"version": "1.0.0"})},
		"disablePlugin":        {perm: access.System, wide: true, kind: "none", okStatus: []int{404}, build: post("/api/v1/plugins/ghost/disable", nil)},
		"pluginGet":            {perm: access.Read, kind: "object", build: pluginAt("GET", "/board", nil)},
		"pluginPost":           {perm: access.Read, inner: &report, kind: "object", build: pluginAt("POST", "/points", map[string]any{"points": 1})},
		"pluginPut":            {perm: access.Read, inner: &act, kind: "object", build: pluginAt("PUT", "/items/7", map[string]any{})},
		"pluginPatch":          {perm: access.Read, inner: &act, kind: "object", build: pluginAt("PATCH", "/items/7", map[string]any{})},
		"pluginDelete":         {perm: access.Read, inner: &act, kind: "object", build: pluginAt("DELETE", "/items/7", nil)},
	}
}

var report, act = access.Report, access.Act

// pluginAt is a request for the board plugin's route about the position's
// jurisdiction.
func pluginAt(method, path string, body any) func(*matrixObjects, position) (string, string, any) {
	return func(o *matrixObjects, p position) (string, string, any) {
		return method, "/api/v1/plugins/board" + path + "?jurisdiction=" + o.jur[p], body
	}
}

var publicOps = []string{"health", "ready", "openapi", "open311Discovery", "open311DiscoveryXML"}

func TestAuthorizationMatrix(t *testing.T) {
	specs := matrixSpecs()
	// The tables cover the route table, and agree with it and with access.
	for _, rt := range routes {
		if rt.public {
			if !slices.Contains(publicOps, rt.op) {
				t.Errorf("route %s is public but not expected to be", rt.op)
			}
			continue
		}
		sp, ok := specs[rt.op]
		if !ok {
			t.Errorf("route %s %s (%s) has no entry in the authorization matrix", rt.method, rt.path, rt.op)
			continue
		}
		if sp.perm != rt.perm || sp.wide != rt.wide {
			t.Errorf("route %s: the route table says %s wide=%v, the matrix %s wide=%v", rt.op, rt.perm, rt.wide, sp.perm, sp.wide)
		}
	}
	for _, role := range access.Roles {
		for _, p := range access.Perms {
			want := role == access.DevRoot || slices.Contains(expectedRoles[p], role)
			if access.Allows(role, p) != want {
				t.Errorf("access says %s holds %s: %v; the matrix says %v", role, p, access.Allows(role, p), want)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	f := newFixture(t)
	f.withPlugins(t)
	o := matrixSetup(t, f)
	scopes := map[string]string{"township": "511083001", "county": "511083"}
	covers := func(scope string, p position) bool {
		switch p {
		case own:
			return true
		case sibling, above:
			return scope == "511083"
		}
		return false
	}
	cells := 0
	for _, rt := range routes {
		if rt.public {
			continue
		}
		sp := specs[rt.op]
		for _, role := range access.Roles {
			for scopeName, scope := range scopes {
				tok := f.matrixToken(role, scope)
				for _, p := range positions {
					if sp.kind != "object" && p != own || sp.noAbove && p == above {
						continue // one cell when nothing placed is named
					}
					want := ok
					switch {
					case role == access.DevRoot:
						want = unauthorized // development mode only
					case !slices.Contains(expectedRoles[sp.perm], role):
						want = forbidden
					case sp.inner != nil && !slices.Contains(expectedRoles[*sp.inner], role):
						want = forbidden
					case sp.wide && scope != "511083":
						want = forbidden
					case sp.kind == "case" && scope != "511083":
						want = notFound
					case sp.kind == "object" && !covers(scope, p):
						want = notFound
					case sp.special && !slices.Contains(expectedRoles[access.Reveal], role):
						want = forbidden
					case sp.dispatched && role == access.DepartmentHandler:
						want = forbidden
					}
					method, path, body := sp.build(o, p)
					if want == unauthorized && strings.HasPrefix(path, "/open311/") {
						want = forbidden // Open311 answers a key it cannot use with 403
					}
					status, resp := f.matrixDo(method, path, tok, body)
					got := classify(status, want, sp.okStatus)
					cells++
					if got != want {
						t.Errorf("%s %s as %s@%s, object %s: %d (%s), want %s\n%s", rt.method, rt.path, role, scopeName, p, status, got, want, resp)
					}
					if scope == "511083001" && got == ok && strings.Contains(resp, "511083002") {
						t.Errorf("%s %s as %s@township: the answer carries the sibling township's data:\n%s", rt.method, rt.path, role, resp)
					}
				}
			}
		}
	}
	// Tokens that open nothing, on every route that needs one.
	bad := f.badTokens(t)
	for _, rt := range routes {
		if rt.public {
			continue
		}
		method, path, body := specs[rt.op].build(o, own)
		for what, tok := range bad {
			status, resp := f.matrixDo(method, path, tok, body)
			cells++
			want := http.StatusUnauthorized
			if strings.HasPrefix(path, "/open311/") {
				want = http.StatusForbidden // the spec's answer to a bad api_key
				if what == "missing" && anonOps[rt.op] {
					want = http.StatusOK // keyless: what config/open311 makes public
					if rt.op == "open311Get" || rt.op == "open311Service" {
						want = http.StatusNotFound // nothing is public by default
					}
				}
			}
			if status != want {
				t.Errorf("%s %s with a %s token: %d, want %d\n%s", rt.method, rt.path, what, status, want, resp)
			}
		}
	}
	t.Logf("%d cells", cells)
}

// classify names an answer as the matrix does.
func classify(status int, want cell, okStatus []int) cell {
	switch {
	case slices.Contains(okStatus, status):
		return ok
	case status == http.StatusUnauthorized:
		return unauthorized
	case status == http.StatusForbidden:
		return forbidden
	case status == http.StatusNotFound:
		return notFound
	}
	return ok
}

func (f *fixture) matrixDo(method, path, tok string, body any) (int, string) {
	f.t.Helper()
	var resp *http.Response
	if body == "" {
		resp = f.raw(method, path, tok, nil)
	} else {
		resp = f.raw(method, path, tok, body)
	}
	defer resp.Body.Close()
	return resp.StatusCode, string(readBody(resp))
}

// matrixToken is a token of role scoped to scope, made once per fixture.
func (f *fixture) matrixToken(role, scope string) string {
	key := role + "@" + scope
	if tok, ok := f.matrix[key]; ok {
		return tok
	}
	var tok string
	if role == access.DevRoot {
		is, err := f.b.s.Tokens.CreateWith(context.Background(), core.TokenSpec{Name: key, Role: role, Scope: scope})
		if err != nil {
			f.t.Fatal(err)
		}
		tok = is.Secret
	} else {
		tok = f.issue(role, scope)
	}
	f.matrix[key] = tok
	return tok
}

// badTokens are credentials that open nothing.
func (f *fixture) badTokens(t *testing.T) map[string]string {
	ctx := context.Background()
	revoked := f.issue(access.GridWorker, "511083001")
	tk, err := f.b.s.Tokens.Authenticate(revoked)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.b.s.Tokens.Revoke(ctx, tk.ID); err != nil {
		t.Fatal(err)
	}
	_, expired, err := f.b.s.Tokens.CreateExpiring(ctx, "expired", access.GridWorker, "511083001", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	good := f.town
	last := "a"
	if good[len(good)-1] == 'a' {
		last = "b"
	}
	tampered := good[:len(good)-1] + last
	return map[string]string{"missing": "", "revoked": revoked, "expired": expired, "tampered": tampered, "truncated": good[:len(good)-6]}
}

// matrixSetup makes the objects the matrix names: in township A
// (511083001), township B (511083002) and at the county.
func matrixSetup(t *testing.T, f *fixture) *matrixObjects {
	t.Helper()
	ctx := core.WithActor(context.Background(), "matrix")
	st := f.b.s
	f.matrix = map[string]string{}
	o := &matrixObjects{
		jur:     map[position]string{own: "511083001", sibling: "511083002", above: "511083", elsewhere: "500110"},
		village: map[position]string{own: "511083001001", sibling: "511083002001", above: "511083", elsewhere: "500110001001"},
		grid:    map[position]string{own: "511083001001001", sibling: "511083002001001", elsewhere: "500110001001001"},
		point:   map[position]string{elsewhere: "lng=116.4&lat=39.9"},
		event:   map[position]string{elsewhere: "500110-20261207-000001"},
		person:  map[position]string{elsewhere: "p-elsewhere"},
		house:   map[position]string{above: "h-above", elsewhere: "h-elsewhere"},
		hook:    map[position]string{elsewhere: "wh-elsewhere"},
		org:     map[position]string{own: "org-a", sibling: "org-b", above: "org-county", elsewhere: "org-elsewhere"},
		token:   map[position]string{elsewhere: "tok-elsewhere0"},
	}
	att, err := st.Events.Upload(ctx, []byte("\x89PNG\r\n\x1a\nmatrix"))
	if err != nil {
		t.Fatal(err)
	}
	o.att = att.ID
	for _, p := range []position{own, sibling, above} {
		rep := model.Report{Category: "dispute", Description: "矩阵 " + p.String(), Jurisdiction: o.jur[p]}
		if p != above {
			rep = model.Report{Category: "dispute", Description: "矩阵 " + p.String(), Grid: o.grid[p]}
		}
		rep.Phone = "13812345678" // for the 回访 contact route
		rep.Attachments = []string{att.Ref()}
		ev, err := st.Events.Report(ctx, rep)
		if err != nil {
			t.Fatalf("event %s: %v", p, err)
		}
		o.event[p] = ev.ID
		if _, err := st.Party.PutOrg(ctx, model.Org{ID: o.org[p], Name: "党组织", Kind: model.OrgCommittee, Jurisdiction: o.jur[p]}); err != nil {
			t.Fatal(err)
		}
		tk, _, err := st.Tokens.Create(ctx, "矩阵", access.GridWorker, o.jur[p], "")
		if err != nil {
			t.Fatal(err)
		}
		o.token[p] = tk.ID
		h, _, err := st.Webhooks.Put(ctx, core.WebhookSpec{Name: "矩阵", URL: "https://example.com/hook", Events: []string{"overdue"}, Format: "json", Under: o.jur[p]})
		if err != nil {
			t.Fatal(err)
		}
		o.hook[p] = h.ID
	}
	o.newHook = func(p position) string {
		if p == elsewhere {
			return "wh-elsewhere"
		}
		h, _, err := st.Webhooks.Put(ctx, core.WebhookSpec{Name: "矩阵删", URL: "https://example.com/hook", Events: []string{"overdue"}, Format: "json", Under: o.jur[p]})
		if err != nil {
			t.Fatal(err)
		}
		return h.ID
	}
	// A special-population person in A and B; the county holds no person
	// (people live in villages), so "above" names one that does not exist.
	o.person[above] = "p-above"
	o.idNumber = map[position]string{above: validID(890), elsewhere: validID(891)}
	for i, p := range []position{own, sibling} {
		o.idNumber[p] = validID(800 + i)
		pp, err := st.People.Add(ctx, model.PersonInput{Name: "矩阵", IDNumber: validID(800 + i), Kind: "registered", Jurisdiction: o.village[p], Grid: o.grid[p]})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.People.SetSpecial(ctx, pp.ID, model.SpecialInput{Category: model.SpecialReleased, Level: 1,
			Since: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Details: model.SpecialDetails{ReleaseDate: "2025-06-01"}}); err != nil {
			t.Fatal(err)
		}
		o.person[p] = pp.ID
		h, err := st.Houses.Add(ctx, model.House{Address: "矩阵路 1 号", Jurisdiction: o.village[p], Grid: o.grid[p]})
		if err != nil {
			t.Fatal(err)
		}
		o.house[p] = h.ID
	}
	if err := st.Grids.PutWorker(ctx, model.Worker{ID: "w-own", Name: "网格员", Jurisdiction: o.village[own]}); err != nil {
		t.Fatal(err)
	}
	// locate: a point inside A's and inside B's first grid.
	for _, p := range []position{own, sibling} {
		g, err := st.Grids.Get(o.grid[p])
		if err != nil {
			t.Fatal(err)
		}
		c, d := g.Geometry[0][0], g.Geometry[0][2]
		o.point[p] = fmt.Sprintf("lng=%f&lat=%f", (c[0]+d[0])/2, (c[1]+d[1])/2)
	}
	if err := st.Federation.Configure(ctx, model.FederationConfig{Self: "511083", Links: []model.Link{{Peer: "500153", Relation: model.RelPeer}}}); err != nil {
		t.Fatal(err)
	}
	cs, err := st.Cases.Open(ctx, "边界纠纷", "", []string{"500153"})
	if err != nil {
		t.Fatal(err)
	}
	o.caseID = cs.ID
	return o
}
