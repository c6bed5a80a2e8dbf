package api

import (
	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
	"github.com/fengqiao/fengqiao/federation/membership"
	"github.com/paulmach/orb"
)

// The bodies the API answers with, named so the OpenAPI document can
// describe them from the Go types (openapi.go, bodies below).

type statusView struct {
	Status string `json:"status"`
}

type jurisdictionView struct {
	model.Jurisdiction
	Children []model.Jurisdiction `json:"children"`
	// Bounds, with ?bounds=true, are the outlines of the jurisdiction and
	// its children by code (GeoJSON MultiPolygon coordinates).
	Bounds map[string]orb.MultiPolygon `json:"bounds,omitempty"`
}

type featureCollection struct {
	Type     string    `json:"type"`
	Features []feature `json:"features"`
	Next     string    `json:"next,omitempty"`
}

type categoriesView struct {
	Categories []model.Category `json:"categories"`
}

type loadedView struct {
	Loaded int `json:"loaded"`
}

type casesPage struct {
	Cases []model.Case `json:"cases"`
	Next  string       `json:"next"`
}

type caseEntriesPage struct {
	Entries []model.CaseEntry `json:"entries"`
	Next    string            `json:"next"`
}

// caseView is a case with the head of its timeline; the rest come through
// /entries from entries_next.
type caseView struct {
	*model.Case
	EntriesNext string `json:"entries_next,omitempty"`
}

type peersView struct {
	Peers []Peer `json:"peers"`
	Self  string `json:"self"`
}

type digestView struct {
	Self    string `json:"self"`
	Applied uint64 `json:"applied"`
	Digest  string `json:"digest"`
}

type auditPage struct {
	Records []auditRecordView `json:"records"`
}

// auditRecordView is an audit record with the person behind its token, as
// named when the token was issued.
type auditRecordView struct {
	state.AuditRecord
	Person  string `json:"person,omitempty"`
	StaffNo string `json:"staff_no,omitempty"`
}

type witnessedView struct {
	Jurisdiction string              `json:"jurisdiction"`
	Chain        state.VerifyReport  `json:"chain"`
	Witnesses    state.WitnessReport `json:"witnesses"`
	OK           bool                `json:"ok"`
}

type witnessesPage struct {
	Witnesses []model.Witness `json:"witnesses"`
}

type membersView struct {
	Members []membership.Member `json:"members"`
	Leaders map[string]string   `json:"leaders"`
}

type linksView struct {
	Links []linkView `json:"links"`
}

type orgsPage struct {
	Orgs []model.Org `json:"orgs"`
	Next string      `json:"next"`
}

type partyMembersPage struct {
	Members []model.Member `json:"members"`
	Next    string         `json:"next"`
}

type partyActivitiesPage struct {
	Activities []model.Activity `json:"activities"`
	Next       string           `json:"next"`
}

type coverageView struct {
	Jurisdiction   string        `json:"jurisdiction"`
	Grids          int           `json:"grids"`
	UncoveredGrids []string      `json:"uncovered_grids"`
	BehindSchedule []model.Lapse `json:"behind_schedule"`
}

type peoplePage struct {
	People []personView `json:"people"`
	Next   string       `json:"next"`
}

type revealedView struct {
	Person   *model.Person   `json:"person"`
	Revealed *model.Revealed `json:"revealed"`
}

type visitsPage struct {
	Visits []model.Visit `json:"visits"`
	Next   string        `json:"next"`
}

// revealedVisitsPage is visitsPage with the notes opened (?reveal=true).
type revealedVisitsPage struct {
	Visits []model.RevealedVisit `json:"visits"`
	Next   string                `json:"next"`
}

type tokensPage struct {
	Tokens []tokenView `json:"tokens"`
	Next   string      `json:"next"`
}

// issuedTokenView is a new token and its secret, shown once; an
// administrator's carries its TOTP enrollment, shown once too.
type issuedTokenView struct {
	Token      tokenView `json:"token"`
	Secret     string    `json:"secret"`
	TOTPSecret string    `json:"totp_secret,omitempty"`
	TOTPURL    string    `json:"totp_url,omitempty"`
}

func issuedView(is *core.Issued) issuedTokenView {
	v := issuedTokenView{Token: viewToken(is.Token), Secret: is.Secret}
	if is.TOTP != nil {
		v.TOTPSecret, v.TOTPURL = is.TOTP.Secret, is.TOTP.URL
	}
	return v
}

type splitView struct {
	Renamed int               `json:"renamed"`
	Issued  []issuedTokenView `json:"issued"`
}

type removedView struct {
	Removed int `json:"removed"`
}

// open311Created is Open311's answer to a new request.
type open311Created struct {
	ServiceRequestID string `json:"service_request_id" xml:"service_request_id"`
	ServiceNotice    string `json:"service_notice" xml:"service_notice"`
}
