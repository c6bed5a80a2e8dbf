package model

import "time"

// OrgKind is a level of party organisation.
type OrgKind string

// Organisation levels: 党委 → 党总支 → 党支部 → 党小组.
const (
	OrgCommittee     OrgKind = "committee"      // 党委
	OrgGeneralBranch OrgKind = "general_branch" // 党总支
	OrgBranch        OrgKind = "branch"         // 党支部
	OrgGroup         OrgKind = "group"          // 党小组
)

// Org is a party organisation tied to a jurisdiction and, for branches and
// groups, to the grids it is built on (党支部建在网格上).
type Org struct {
	ID           string               `json:"id"`
	Name         string               `json:"name"`
	Kind         OrgKind              `json:"kind"`
	Parent       string               `json:"parent,omitempty"`
	Jurisdiction string               `json:"jurisdiction"`
	Grids        []string             `json:"grids,omitempty"`
	Last         map[string]time.Time `json:"last,omitempty"` // latest activity date per kind
}

// Member is a party member.
type Member struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Org        string   `json:"org"`
	Status     string   `json:"status"`          // full | probationary (正式/预备)
	Roles      []string `json:"roles,omitempty"` // secretary, deputy_secretary, committee_member, organiser, publicity
	Workplace  string   `json:"workplace,omitempty"`
	DualReport string   `json:"dual_report,omitempty"` // community reported to (在职党员双报到), a village code
	Households []string `json:"households,omitempty"`  // houses the member links to (联系户)
}

// Activity is a meeting or event of an org, with attendance.
type Activity struct {
	ID        string   `json:"id"`
	Org       string   `json:"org"`
	Kind      string   `json:"kind"` // see ActivityKinds
	Date      string   `json:"date"` // YYYY-MM-DD
	Topic     string   `json:"topic"`
	Attendees []string `json:"attendees"`
	Absent    int      `json:"absent"`
}

// ActivityKinds are 三会一课 and 主题党日 with the longest gap allowed, in
// months, and which org kind must hold them.
var ActivityKinds = map[string]struct {
	Months int
	Holder OrgKind
	Name   string
}{
	"branch_assembly":   {3, OrgBranch, "支部党员大会"},
	"committee_meeting": {1, OrgBranch, "支部委员会"},
	"group_meeting":     {1, OrgGroup, "党小组会"},
	"party_lecture":     {3, OrgBranch, "党课"},
	"theme_day":         {1, OrgBranch, "主题党日"},
}

// MemberRoles are the roles a party member may hold.
var MemberRoles = []string{"secretary", "deputy_secretary", "committee_member", "organiser", "publicity", "discipline"}

// Lapse is one org behind on one required activity.
type Lapse struct {
	Org   string    `json:"org"`
	Name  string    `json:"name"`
	Kind  string    `json:"kind"`
	Last  time.Time `json:"last,omitzero"` // zero: never held
	DueBy time.Time `json:"due_by,omitzero"`
}
