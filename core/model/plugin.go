package model

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Plugin hooks, by the names the catalog and the API use.
const (
	HookValidateEvent = "validate_event"
	HookEnrichEvent   = "enrich_event"
	HookRouteEvent    = "route_event"
	HookOnTransition  = "on_transition"
)

// PluginHooks lists every hook a plugin may serve.
var PluginHooks = []string{HookValidateEvent, HookEnrichEvent, HookRouteEvent, HookOnTransition}

// Failure policies of a hook: what the node does when the plugin cannot
// answer (it crashed, hung, or answered garbage).
const (
	// FailOpen goes on without the plugin and notes it on the event.
	FailOpen = "open"
	// FailClosed refuses the request with an error naming the plugin.
	FailClosed = "closed"
)

// Extension fields the plugin hooks write (Event.Ext). A plugin's own
// fields are named PluginExtKey(plugin, field); callers may not use ':'.
const (
	// ExtRoute holds the routing (分流) a plugin chose: a Routing.
	ExtRoute = "fengqiao:route"
	// ExtSkipped lists the hooks that failed open on the report: Skipped values.
	ExtSkipped = "fengqiao:skipped"
)

// PluginExtKey names a plugin's extension field.
func PluginExtKey(plugin, field string) string { return plugin + ":" + field }

// Routing is where a plugin routes an event (分流); dispatch takes it as
// its default handler and deadline.
type Routing struct {
	Plugin     string     `json:"plugin"`
	Handler    string     `json:"handler,omitempty"`
	Department string     `json:"department,omitempty"`
	Deadline   *time.Time `json:"deadline,omitempty"`
}

// Skipped is a hook that failed open: the report went on without it.
type Skipped struct {
	Plugin string `json:"plugin"`
	Hook   string `json:"hook"`
	Error  string `json:"error"`
}

// Bounds of a catalog entry.
const (
	MaxPluginConfig = 16 << 10
	MaxPluginScopes = 64
)

// PluginVersion is one registered version of a plugin in the catalog. Several
// versions of a name sit side by side; the catalog's PluginActive names the
// one that runs.
type PluginVersion struct {
	Name    string `json:"name"`
	Version string `json:"version"` // MAJOR.MINOR.PATCH
	// File is the binary's name inside each node's plugin directory; a
	// node runs nothing from anywhere else.
	File   string `json:"file"`
	SHA256 string `json:"sha256"` // hex, of the binary
	// Hooks are those the plugin said it serves (Describe) when registered.
	Hooks []string `json:"hooks"`
	// Jurisdictions are the subtrees it serves: its hooks see only events
	// there and its commands may touch only those.
	Jurisdictions []string `json:"jurisdictions"`
	// Config is handed to the plugin as it starts (one JSON object).
	Config json.RawMessage `json:"config,omitempty"`
	// Policy is each hook's failure policy; a hook not named is FailOpen.
	Policy       map[string]string `json:"policy,omitempty"`
	RegisteredAt time.Time         `json:"registered_at"`
	RegisteredBy string            `json:"registered_by"`
}

// PolicyOf is the failure policy of hook.
func (p *PluginVersion) PolicyOf(hook string) string {
	if p.Policy[hook] == FailClosed {
		return FailClosed
	}
	return FailOpen
}

// Serves reports whether the plugin serves hook.
func (p *PluginVersion) Serves(hook string) bool { return slices.Contains(p.Hooks, hook) }

// Covers reports whether the plugin serves the place code (a jurisdiction
// or grid code).
func (p *PluginVersion) Covers(code string) bool {
	for _, j := range p.Jurisdictions {
		if Under(code, j) {
			return true
		}
	}
	return false
}

// Check applies the input rules of a registration.
func (p *PluginVersion) Check() error {
	if err := CheckPluginName(p.Name); err != nil {
		return err
	}
	if _, err := ParseVersion(p.Version); err != nil {
		return err
	}
	if p.File == "" || len(p.File) > 128 || strings.ContainsAny(p.File, `/\`) || p.File == "." || p.File == ".." || strings.HasPrefix(p.File, ".") {
		return errs.Invalid("file", "format", "plugin %s: file must be a plain name inside the plugin directory, not a path", p.Name)
	}
	if len(p.SHA256) != 64 || strings.Trim(p.SHA256, "0123456789abcdef") != "" {
		return errs.Invalid("sha256", "format", "plugin %s: sha256 must be 64 lower-case hex digits", p.Name)
	}
	if len(p.Hooks) > len(PluginHooks) {
		return errs.Invalid("hooks", "length", "plugin %s: at most %d hooks", p.Name, len(PluginHooks))
	}
	for i, h := range p.Hooks {
		if !slices.Contains(PluginHooks, h) {
			return errs.Invalid("hooks", "enum", "plugin %s: unknown hook %q", p.Name, h)
		}
		if slices.Contains(p.Hooks[:i], h) {
			return errs.Invalid("hooks", "unique", "plugin %s: hook %s named twice", p.Name, h)
		}
	}
	if len(p.Jurisdictions) == 0 || len(p.Jurisdictions) > MaxPluginScopes {
		return errs.Invalid("jurisdictions", "required", "plugin %s: name 1..%d jurisdictions it serves", p.Name, MaxPluginScopes)
	}
	for _, j := range p.Jurisdictions {
		if !ValidCode(j) {
			return errs.Invalid("jurisdictions", "format", "plugin %s: %q is not a division code", p.Name, j)
		}
	}
	if len(p.Config) > 0 {
		if len(p.Config) > MaxPluginConfig || !json.Valid(p.Config) || !strings.HasPrefix(strings.TrimSpace(string(p.Config)), "{") {
			return errs.Invalid("config", "json", "plugin %s: config must be one JSON object of at most %d bytes", p.Name, MaxPluginConfig)
		}
	}
	for h, pol := range p.Policy {
		if !slices.Contains(PluginHooks, h) {
			return errs.Invalid("policy", "enum", "plugin %s: policy for unknown hook %q", p.Name, h)
		}
		if pol != FailOpen && pol != FailClosed {
			return errs.Invalid("policy."+h, "enum", "plugin %s: policy must be %q or %q", p.Name, FailOpen, FailClosed)
		}
	}
	return nil
}

// CheckPluginName accepts 1..40 characters of [a-z0-9-], starting with a
// letter: the name is part of URLs, collection keys and log fields.
func CheckPluginName(name string) error {
	if name == "" || len(name) > 40 || name[0] < 'a' || name[0] > 'z' {
		return errs.Invalid("name", "format", "plugin name must be 1..40 characters starting with a-z")
	}
	if name == "fengqiao" {
		return errs.Invalid("name", "reserved", "plugin name fengqiao is reserved")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return errs.Invalid("name", "format", "plugin name %q may hold a-z, 0-9 and - only", name)
		}
	}
	return nil
}

// ParseVersion reads MAJOR.MINOR.PATCH.
func ParseVersion(v string) ([3]int, error) {
	var out [3]int
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return out, errs.Invalid("version", "format", "version %q must be MAJOR.MINOR.PATCH", v)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 1<<20 || strconv.Itoa(n) != p {
			return out, errs.Invalid("version", "format", "version %q must be MAJOR.MINOR.PATCH", v)
		}
		out[i] = n
	}
	return out, nil
}

// CompareVersions orders two valid versions (-1, 0, 1); invalid ones sort first.
func CompareVersions(a, b string) int {
	x, _ := ParseVersion(a)
	y, _ := ParseVersion(b)
	return slices.Compare(x[:], y[:])
}

// PluginActive says which version of a plugin runs: the catalog switches
// versions in one command, so a leader change never changes the code.
type PluginActive struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
	// Voters are the members that reported this binary when it was enabled.
	Voters    []string  `json:"voters"`
	EnabledAt time.Time `json:"enabled_at"`
	EnabledBy string    `json:"enabled_by"`
}

// Binary states a node reports for a registered version.
const (
	BinaryOK       = "ok"       // the file is there and hashes as registered
	BinaryMissing  = "missing"  // no such file in the node's plugin directory
	BinaryMismatch = "mismatch" // the file hashes to something else
)

// PluginReport is what one node found in its plugin directory for one
// registered version.
type PluginReport struct {
	Name    string    `json:"name"`
	Version string    `json:"version"`
	Node    string    `json:"node"`
	Status  string    `json:"status"` // Binary*
	SHA256  string    `json:"sha256,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	At      time.Time `json:"at"`
}

// Check applies the input rules of a report.
func (r *PluginReport) Check() error {
	if err := CheckPluginName(r.Name); err != nil {
		return err
	}
	if _, err := ParseVersion(r.Version); err != nil {
		return err
	}
	if err := CheckID("node", r.Node); err != nil {
		return err
	}
	if !slices.Contains([]string{BinaryOK, BinaryMissing, BinaryMismatch}, r.Status) {
		return errs.Invalid("status", "enum", "binary status must be ok, missing or mismatch")
	}
	if len(r.Reason) > 500 {
		return errs.Invalid("reason", "length", "reason must be at most 500 bytes")
	}
	return nil
}

// PluginEnable switches a plugin to a version, or (Version "") disables it.
// Voters are the group's voting members as the proposer saw them; apply
// refuses unless each has reported the version's binary as it was registered.
type PluginEnable struct {
	Name    string   `json:"name"`
	Version string   `json:"version,omitempty"`
	Voters  []string `json:"voters,omitempty"`
}

// PluginInfo is a catalog entry as the API shows it: the versions, which one
// runs, and what every node reported.
type PluginInfo struct {
	Name     string          `json:"name"`
	Active   *PluginActive   `json:"active,omitempty"`
	Versions []PluginVersion `json:"versions"`
	Reports  []PluginReport  `json:"reports"`
}
