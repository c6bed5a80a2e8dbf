// Package access decides who may do what, where: roles, the permissions
// each holds, the event actions each may take, which roles count as
// administrators, and the jurisdiction subtree a scope covers. Every entry
// point (the HTTP API, Open311, the console, plugin routes and embedding
// programs) asks it, so a rule is written once.
//
// Administration is split three ways (三员分立, 等保 2.0 level 3): the system
// administrator runs the cluster, keys, backups and plugins; the security
// administrator issues tokens; the audit administrator reads and verifies
// the audit and changes nothing. No role holds two of these. The business
// work of a 综治中心 is center_admin's.
package access

import (
	"slices"
	"strconv"

	"github.com/fengqiao/fengqiao/core/model"
)

// Roles a token can carry. Each is scoped to a jurisdiction subtree.
const (
	GridWorker        = "grid_worker" // 网格员; may be scoped to one grid
	CommunityOperator = "community_operator"
	TownshipOperator  = "township_operator"
	CenterAdmin       = "center_admin" // 综治中心: events, people, party, cases
	DepartmentHandler = "department_handler"
	SystemAdmin       = "system_admin"   // 系统管理员: cluster, keys, backup and restore, plugins
	SecurityAdmin     = "security_admin" // 安全管理员: tokens and roles
	AuditAdmin        = "audit_admin"    // 审计管理员: reads and verifies the audit
	// DevRoot holds every role at once. Only a node in development mode
	// (serve --dev, demo) issues or accepts it.
	DevRoot = "dev_root"
)

// LegacyAuditor is the role audit_admin replaced. Tokens that still carry
// it stop working until the roles are split (fengqiao token migrate-roles).
const LegacyAuditor = "auditor"

// Roles lists every role a stored token may carry.
var Roles = []string{GridWorker, CommunityOperator, TownshipOperator, CenterAdmin, DepartmentHandler,
	SystemAdmin, SecurityAdmin, AuditAdmin, DevRoot}

// Assignable lists the roles a token can be issued with through the API:
// every role but DevRoot.
var Assignable = Roles[:len(Roles)-1]

// Perm is something a role may do.
type Perm int

// Permissions.
const (
	// Read is the business data: jurisdictions, grids, events, figures,
	// people (masked), party, cases.
	Read Perm = iota
	// Report covers reporting events, registering people and recording
	// visits and party activities.
	Report
	// Act covers actions on events and cases (see AllowsAction).
	Act
	// ManagePlaces covers grids, party organisations and members.
	ManagePlaces
	// Reveal covers reading sensitive details in the clear (audited) and
	// keeping special-population records.
	Reveal
	// ClusterRead covers the state of the Raft group and the federation.
	ClusterRead
	// System covers cluster membership, keys, backup and restore, divisions
	// and plugins.
	System
	// Tokens covers issuing, listing and revoking tokens.
	Tokens
	// Audit covers reading and verifying the audit trail.
	Audit
	// Configure covers the group's working rules: the deadline table (SLA),
	// the working-day calendar and local event categories.
	Configure
	// SplitRoles is the one-time upgrade of a group made before the roles
	// were split: the old all-powerful center_admin hands the
	// administration to a security_admin and a system_admin (and auditor
	// tokens become audit_admin). Once done it is refused.
	SplitRoles
	// IssueStaff covers issuing, listing and revoking the tokens of one's
	// own staff: roles no higher than one's own, within one's scope (a
	// township operator for its grid workers).
	IssueStaff
	// Self covers reading one's own session: the token's role and scope and
	// what the role may do. Every role holds it, so the console can ask
	// what to show before it shows anything.
	Self
)

var permNames = [...]string{"read", "report", "act", "manage_places", "reveal", "cluster_read", "system", "tokens", "audit", "configure", "split_roles", "issue_staff", "self"}

// String names the permission as the docs and errors do.
func (p Perm) String() string {
	if int(p) < len(permNames) {
		return permNames[p]
	}
	return "perm(" + strconv.Itoa(int(p)) + ")"
}

// Perms lists every permission.
var Perms = []Perm{Read, Report, Act, ManagePlaces, Reveal, ClusterRead, System, Tokens, Audit, Configure, SplitRoles, IssueStaff, Self}

var rolePerms = map[string][]Perm{
	GridWorker:        {Read, Report, Act, Self},
	CommunityOperator: {Read, Report, Act, Reveal, Self},
	TownshipOperator:  {Read, Report, Act, ManagePlaces, Reveal, IssueStaff, Self},
	CenterAdmin:       {Read, Report, Act, ManagePlaces, Reveal, ClusterRead, Configure, SplitRoles, Self},
	DepartmentHandler: {Read, Act, Self},
	SystemAdmin:       {System, ClusterRead, Self},
	SecurityAdmin:     {Tokens, Self},
	AuditAdmin:        {Audit, Read, Self},
	DevRoot:           Perms,
}

// roleActions limits which event actions a role may take; roles not listed
// may take every action their Act permission allows.
var roleActions = map[string][]string{
	GridWorker:        {"comment", "self_resolve", "resolve"},
	DepartmentHandler: {"sign", "return", "resolve", "comment"},
}

// staffRank orders the roles a staff token may carry, lowest first.
var staffRank = map[string]int{GridWorker: 1, CommunityOperator: 2, TownshipOperator: 3}

// MayIssue reports whether a token of role issuer may issue (or revoke) a
// staff token of role: issuer holds IssueStaff, and role is a staff role
// no higher than the issuer's own.
func MayIssue(issuer, role string) bool {
	r, ok := staffRank[role]
	return ok && Allows(issuer, IssueStaff) && r <= staffRank[issuer]
}

// StaffRoles lists the roles a staff token may carry.
var StaffRoles = []string{GridWorker, CommunityOperator, TownshipOperator}

// PermsOf lists the permissions role holds, in the order of Perms.
func PermsOf(role string) []Perm {
	out := []Perm{}
	for _, p := range Perms {
		if Allows(role, p) {
			out = append(out, p)
		}
	}
	return out
}

// Allows reports whether role holds p.
func Allows(role string, p Perm) bool { return slices.Contains(rolePerms[role], p) }

// AllowsAction reports whether role may take an event action (given Act).
func AllowsAction(role, action string) bool {
	allowed, limited := roleActions[role]
	return !limited || slices.Contains(allowed, action)
}

// Administrative roles need a second factor outside development mode.
var adminRoles = []string{SystemAdmin, SecurityAdmin, AuditAdmin, CenterAdmin}

// Admin reports whether role administers something and so needs a second
// factor (TOTP or a bound client certificate) and a bounded lifetime.
func Admin(role string) bool { return slices.Contains(adminRoles, role) }

// Known reports whether role is one a token may carry.
func Known(role string) bool { return slices.Contains(Roles, role) }

// SeesSpecial reports whether a token of role scoped to scope sees a
// special-population record's category, level, contact status and support
// team (PIPL art. 6, minimum necessary): the roles that may reveal, and the
// grid workers of the person's own grid (a token scoped to that grid).
// Everyone else who may read sees only that the person needs attention and
// when a visit is due.
func SeesSpecial(role, scope, personGrid string) bool {
	if Allows(role, Reveal) {
		return true
	}
	return role == GridWorker && personGrid != "" && scope == personGrid
}

// Prefix is the key prefix every code under code shares (model.ScopePrefix).
func Prefix(code string) string { return model.ScopePrefix(code) }

// Under reports whether code (a jurisdiction or grid code) lies in the
// subtree of scope (model.Under).
func Under(code, scope string) bool { return model.Under(code, scope) }

// ActionsOn lists the actions tk may take on ev now: EventActions for its
// role, and for a department_handler none on an event not dispatched to
// its department or to itself.
func ActionsOn(tk *model.Token, ev *model.Event) []string {
	if !MayHandle(tk, ev) {
		return []string{}
	}
	acts := EventActions(tk.Role, ev.Status)
	if ev.EscalatedTo != "" {
		// Held by the tier it was escalated to: a comment, at most.
		acts = slices.DeleteFunc(acts, func(a string) bool { return a != "comment" })
	}
	return acts
}

// MayHandle reports whether tk may act on ev at all: a department_handler
// only on what is dispatched to it. Apply checks the same (state).
func MayHandle(tk *model.Token, ev *model.Event) bool {
	return tk.Role != DepartmentHandler || tk.Handles(ev.Handler)
}

// EventActions lists the actions a token of role may take on an event in
// state s, in the order of the transition table: those the table allows
// from s that the role may take. The console offers these and no others;
// apply enforces the table, and the API the role.
func EventActions(role string, s model.Status) []string {
	if !Allows(role, Act) {
		return []string{}
	}
	out := []string{}
	for _, a := range model.ActionsFrom(s) {
		if AllowsAction(role, a) {
			out = append(out, a)
		}
	}
	return out
}
