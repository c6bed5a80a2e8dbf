// Command points is the 积分制 example plugin: residents earn points for
// volunteer service and for safety participation, by a rule table per
// community, kept as a ledger in plugin state, with a leaderboard per
// community on its routes.
//
// Residents are pseudonymous to the plugin: a resident's reports carry
// points:resident, a keyed hash of the reporter the plugin adds as the report
// is made, and the ledger holds only that.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/plugins/sdk"
)

// config is the plugin's configuration in the catalog.
type config struct {
	// Rules are points per kind of participation, by community code, with
	// "default" for every other community. volunteer counts per hour.
	Rules map[string]map[string]int `json:"rules"`
	// Salt keys the residents' pseudonyms.
	Salt string `json:"salt"`
}

var defaultRules = map[string]int{"volunteer": 2, "safety_report": 5, "mediation_help": 3}

type points struct {
	host sdk.Host
	cfg  config
}

// entry is one line of the ledger (collection "ledger", at the community).
type entry struct {
	Resident string    `json:"resident"`
	Kind     string    `json:"kind"`
	Points   int       `json:"points"`
	Ref      string    `json:"ref"` // the event, or the volunteer record
	At       time.Time `json:"at"`
}

var residentID = regexp.MustCompile(`^r[0-9a-f]{16}$`)

func (p *points) UseHost(h sdk.Host) { p.host = h }

func (p *points) Configure(_ context.Context, s sdk.Setup) error {
	p.cfg = config{Rules: map[string]map[string]int{"default": defaultRules}}
	if len(s.Config) > 0 {
		if err := json.Unmarshal(s.Config, &p.cfg); err != nil {
			return fmt.Errorf("config: %w", err)
		}
	}
	return nil
}

func (p *points) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Name: "points", Version: "1.0.0",
		Fields: json.RawMessage(`{"type":"object","properties":{"resident":{"type":"string","pattern":"^r[0-9a-f]{16}$","title":"居民编号"}},"additionalProperties":false}`),
		Forms:  []sdk.Form{{Name: "points", Title: "积分", Place: "event", Fields: []string{"resident"}}},
		Routes: []sdk.Route{
			{Method: "GET", Path: "/leaderboard", Summary: "社区积分排行"},
			{Method: "GET", Path: "/residents/{resident}", Summary: "居民积分明细"},
			{Method: "POST", Path: "/participation", Summary: "登记志愿服务等参与", Perm: "report"},
		}}, nil
}

// rule is what kind earns in community.
func (p *points) rule(community, kind string) int {
	if r, ok := p.cfg.Rules[community]; ok {
		return r[kind]
	}
	return p.cfg.Rules["default"][kind]
}

// EnrichEvent gives a resident's report the reporter's pseudonym.
func (p *points) EnrichEvent(_ context.Context, r model.Report, _ string) (sdk.Enrichment, error) {
	if r.Source != "resident" || r.Reporter == "" {
		return sdk.Enrichment{}, nil
	}
	sum := sha256.Sum256([]byte(p.cfg.Salt + "\x00" + r.Reporter))
	id, _ := json.Marshal("r" + hex.EncodeToString(sum[:8]))
	return sdk.Enrichment{Ext: map[string]json.RawMessage{"resident": id}}, nil
}

// OnTransition awards safety_report points when a resident's report is
// closed: the hazard was real and dealt with.
func (p *points) OnTransition(ctx context.Context, ch model.Change) ([]model.PluginCommand, error) {
	if ch.Kind != model.ChangeEvent || ch.To != string(model.StatusClosed) {
		return nil, nil
	}
	ev, found, err := p.host.Event(ctx, ch.ID)
	if err != nil || !found {
		return nil, err
	}
	var resident string
	if json.Unmarshal(ev.Ext["points:resident"], &resident) != nil || !residentID.MatchString(resident) {
		return nil, nil
	}
	community := communityOf(ev.Place())
	n := p.rule(community, "safety_report")
	if n == 0 || community == "" {
		return nil, nil
	}
	return []model.PluginCommand{award(community, entry{Resident: resident, Kind: "safety_report", Points: n, Ref: ev.ID, At: ch.At})}, nil
}

// communityOf is the village or community (12 digits) of a place.
func communityOf(place string) string {
	if len(place) < 12 {
		return ""
	}
	return place[:12]
}

// award writes one ledger entry; its key names the resident and the
// reference, so the same award twice is one entry.
func award(community string, e entry) model.PluginCommand {
	v, _ := json.Marshal(e)
	return model.PluginCommand{Op: model.OpPut, Collection: "ledger", Jurisdiction: community, Key: e.Resident + "-" + e.Ref, Value: v}
}

// ledger reads a community's entries whose keys start with prefix.
func (p *points) ledger(ctx context.Context, community, prefix string) ([]entry, error) {
	var out []entry
	for after := prefix; ; {
		recs, next, err := p.host.Records(ctx, community, "ledger", after, 500)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if !strings.HasPrefix(r.Key, prefix) {
				return out, nil
			}
			var e entry
			if json.Unmarshal(r.Value, &e) == nil {
				out = append(out, e)
			}
		}
		if next == "" {
			return out, nil
		}
		after = next
	}
}

type standing struct {
	Resident string `json:"resident"`
	Points   int    `json:"points"`
}

func (p *points) HandleHTTP(ctx context.Context, r sdk.HTTPRequest) (sdk.HTTPResponse, error) {
	community := r.Jurisdiction
	if len(community) != 12 {
		return problem(400, "jurisdiction", "name a village or community (12 digits): points are kept per community"), nil
	}
	switch r.Route {
	case "/leaderboard":
		all, err := p.ledger(ctx, community, "")
		if err != nil {
			return sdk.HTTPResponse{}, err
		}
		sum := map[string]int{}
		for _, e := range all {
			sum[e.Resident] += e.Points
		}
		board := []standing{}
		for res, n := range sum {
			board = append(board, standing{res, n})
		}
		slices.SortFunc(board, func(a, b standing) int {
			if a.Points != b.Points {
				return b.Points - a.Points
			}
			return strings.Compare(a.Resident, b.Resident)
		})
		return sdk.HTTPResponse{Body: map[string]any{"community": community, "leaderboard": board}}, nil
	case "/residents/{resident}":
		res := r.Params["resident"]
		if !residentID.MatchString(res) {
			return problem(400, "resident", "a resident id is r and 16 hex digits"), nil
		}
		entries, err := p.ledger(ctx, community, res+"-")
		if err != nil {
			return sdk.HTTPResponse{}, err
		}
		total := 0
		for _, e := range entries {
			total += e.Points
		}
		return sdk.HTTPResponse{Body: map[string]any{"resident": res, "points": total, "entries": entries}}, nil
	case "/participation":
		var in struct {
			Resident string  `json:"resident"`
			Kind     string  `json:"kind"`
			Hours    float64 `json:"hours"`
			Ref      string  `json:"ref"` // the activity's own record, e.g. 2026-12-07-清扫
		}
		if err := json.Unmarshal(r.Body, &in); err != nil {
			return problem(400, "body", "a JSON object with resident, kind, hours and ref"), nil
		}
		n := p.rule(community, in.Kind)
		switch {
		case !residentID.MatchString(in.Resident):
			return problem(400, "resident", "a resident id is r and 16 hex digits"), nil
		case n == 0 || in.Kind == "safety_report":
			return problem(400, "kind", "no points for this kind here; safety reports earn theirs when closed"), nil
		case in.Ref == "" || len(in.Ref) > 80 || strings.ContainsAny(in.Ref, "/ "):
			return problem(400, "ref", "ref names the activity (1..80 characters, no / or spaces)"), nil
		}
		if in.Kind == "volunteer" {
			if in.Hours <= 0 || in.Hours > 24 {
				return problem(400, "hours", "hours must be in (0, 24]"), nil
			}
			n = int(float64(n)*in.Hours + 0.5)
		}
		e := entry{Resident: in.Resident, Kind: in.Kind, Points: n, Ref: in.Ref, At: time.Now().UTC()}
		return sdk.HTTPResponse{Status: 201, Body: e, Commands: []model.PluginCommand{award(community, e)}}, nil
	}
	return sdk.HTTPResponse{}, errors.New("no such route")
}

// problem is an RFC 9457 answer naming the field.
func problem(status int, field, detail string) sdk.HTTPResponse {
	return sdk.HTTPResponse{Status: status, Body: map[string]any{"title": "invalid input", "status": status, "field": field, "detail": detail}}
}

func main() { sdk.Serve(&points{}) }
