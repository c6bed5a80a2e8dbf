// Command mediation is the 枫桥-style example plugin: 矛盾纠纷 (category
// dispute) go to a people's mediator (人民调解员) and through 受理 → 调解 →
// 达成协议 → 司法确认 → 回访, each step with a deadline, each on the event's
// timeline, with the agreement kept and the outcome written back to the
// event. A daily job supervises (督办) cases whose step is overdue.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/plugins/sdk"
)

// steps are the mediation's steps in order.
var steps = []string{"受理", "调解", "达成协议", "司法确认", "回访"}

type config struct {
	// Mediators are 人民调解员 by jurisdiction code (the longest prefix of
	// the event's place wins).
	Mediators map[string]string `json:"mediators"`
	// Days each step may take; defaults in defaultDays.
	Days map[string]int `json:"days"`
}

var defaultDays = map[string]int{"受理": 1, "调解": 10, "达成协议": 3, "司法确认": 30, "回访": 15}

// mediationCase is one dispute under mediation (collection "cases", keyed
// by the event, at the plugin's jurisdiction that covers it).
type mediationCase struct {
	Event     string     `json:"event"`
	Mediator  string     `json:"mediator"`
	Step      string     `json:"step"`
	Due       time.Time  `json:"due"`
	History   []stepDone `json:"history"`
	Agreement *agreement `json:"agreement,omitempty"`
	Outcome   string     `json:"outcome,omitempty"`
}

type stepDone struct {
	Step string    `json:"step"`
	At   time.Time `json:"at"`
	Note string    `json:"note,omitempty"`
}

// agreement is the 调解协议.
type agreement struct {
	Parties []string `json:"parties"`
	Terms   string   `json:"terms"`
}

type mediation struct {
	host sdk.Host
	cfg  config
	jurs []string
}

func (m *mediation) UseHost(h sdk.Host) { m.host = h }

func (m *mediation) Configure(_ context.Context, s sdk.Setup) error {
	m.jurs = s.Jurisdictions
	if len(s.Config) > 0 {
		if err := json.Unmarshal(s.Config, &m.cfg); err != nil {
			return fmt.Errorf("config: %w", err)
		}
	}
	return nil
}

func (m *mediation) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Name: "mediation", Version: "1.0.0",
		Jobs: []sdk.Job{{Name: "overdue", Cron: "0 9 * * *"}},
		Routes: []sdk.Route{
			{Method: "GET", Path: "/cases/{event}", Summary: "一件纠纷的调解进程"},
			{Method: "POST", Path: "/cases/{event}/steps", Summary: "调解进入下一步（调解、达成协议、司法确认、回访）", Perm: "act"},
		}}, nil
}

func (m *mediation) days(step string) time.Duration {
	d, ok := m.cfg.Days[step]
	if !ok {
		d = defaultDays[step]
	}
	return time.Duration(d) * 24 * time.Hour
}

func (m *mediation) mediator(place string) string {
	best, who := "", "人民调解委员会"
	for code, name := range m.cfg.Mediators {
		if model.Under(place, code) && len(code) > len(best) {
			best, who = code, name
		}
	}
	return who
}

// RouteEvent sends a dispute to its mediator (分流).
func (m *mediation) RouteEvent(_ context.Context, ev model.Event) (sdk.Routing, error) {
	if ev.Category != "dispute" {
		return sdk.Routing{}, nil
	}
	return sdk.Routing{Handler: m.mediator(ev.Place()), Department: "人民调解委员会"}, nil
}

// OnTransition opens a case (受理) for each dispute reported.
func (m *mediation) OnTransition(ctx context.Context, ch model.Change) ([]model.PluginCommand, error) {
	if ch.Kind != model.ChangeEvent || ch.Action != "report" {
		return nil, nil
	}
	ev, found, err := m.host.Event(ctx, ch.ID)
	if err != nil || !found || ev.Category != "dispute" {
		return nil, err
	}
	jur := sdk.Covering(m.jurs, ev.Place())
	if jur == "" {
		return nil, nil
	}
	c := mediationCase{Event: ev.ID, Mediator: m.mediator(ev.Place()), Step: steps[0], Due: ch.At.Add(m.days(steps[0])),
		History: []stepDone{{Step: steps[0], At: ch.At}}}
	note := fmt.Sprintf("人民调解·受理：调解员 %s，%s 前进入调解", c.Mediator, c.Due.In(cst).Format("2006-01-02"))
	return []model.PluginCommand{put(jur, c), comment(ev.ID, note)}, nil
}

var cst = time.FixedZone("CST", 8*3600)

func put(jur string, c mediationCase) model.PluginCommand {
	v, _ := json.Marshal(c)
	return model.PluginCommand{Op: model.OpPut, Collection: "cases", Jurisdiction: jur, Key: c.Event, Value: v}
}

func comment(event, note string) model.PluginCommand {
	return model.PluginCommand{Op: model.OpAct, Event: event, Action: &model.Action{Action: "comment", Note: note}}
}

func (m *mediation) load(ctx context.Context, jur, event string) (*mediationCase, error) {
	raw, found, err := m.host.Record(ctx, jur, "cases", event)
	if err != nil || !found {
		return nil, err
	}
	var c mediationCase
	return &c, json.Unmarshal(raw, &c)
}

func (m *mediation) HandleHTTP(ctx context.Context, r sdk.HTTPRequest) (sdk.HTTPResponse, error) {
	ev, found, err := m.host.Event(ctx, r.Params["event"])
	if err != nil {
		return sdk.HTTPResponse{}, err
	}
	// An event outside the request's jurisdiction reads as missing.
	if !found || !model.Under(ev.Place(), r.Jurisdiction) {
		return problem(404, "event", "no mediation case for this event"), nil
	}
	jur := sdk.Covering(m.jurs, ev.Place())
	c, err := m.load(ctx, jur, ev.ID)
	if err != nil {
		return sdk.HTTPResponse{}, err
	}
	if c == nil {
		return problem(404, "event", "no mediation case for this event"), nil
	}
	if r.Method == "GET" {
		return sdk.HTTPResponse{Body: c}, nil
	}
	var in struct {
		Step      string     `json:"step"`
		Note      string     `json:"note"`
		Agreement *agreement `json:"agreement"`
		Outcome   string     `json:"outcome"`
	}
	if err := json.Unmarshal(r.Body, &in); err != nil {
		return problem(400, "body", "a JSON object with step and note"), nil
	}
	next := slices.Index(steps, c.Step) + 1
	switch {
	case next >= len(steps):
		return problem(409, "step", "this mediation is finished"), nil
	case in.Step != steps[next]:
		return problem(409, "step", fmt.Sprintf("the next step is %s, not %s", steps[next], in.Step)), nil
	case in.Step == "达成协议" && (in.Agreement == nil || in.Agreement.Terms == "" || len(in.Agreement.Parties) < 2):
		return problem(400, "agreement", "an agreement names at least two parties and its terms"), nil
	case in.Step == "回访" && in.Outcome != "满意" && in.Outcome != "基本满意" && in.Outcome != "不满意":
		return problem(400, "outcome", "the outcome of the return visit is 满意, 基本满意 or 不满意"), nil
	case len(in.Note) > 1000:
		return problem(400, "note", "a note is at most 1000 bytes"), nil
	}
	now := time.Now().UTC()
	c.Step, c.Due = in.Step, now.Add(m.days(in.Step))
	c.History = append(c.History, stepDone{Step: in.Step, At: now, Note: in.Note})
	text := "人民调解·" + in.Step
	if in.Agreement != nil && in.Step == "达成协议" {
		c.Agreement = in.Agreement
		text += "：" + strings.Join(in.Agreement.Parties, "、") + " 达成协议：" + in.Agreement.Terms
	}
	if in.Step == "回访" {
		c.Outcome = in.Outcome
		text += "：调解结案，当事人" + in.Outcome
	}
	if in.Note != "" {
		text += "（" + in.Note + "）"
	}
	return sdk.HTTPResponse{Body: c, Commands: []model.PluginCommand{put(jur, *c), comment(ev.ID, text)}}, nil
}

// RunJob supervises (督办) every case whose step is past its deadline,
// once per step: the command's key repeats for the same run.
func (m *mediation) RunJob(ctx context.Context, name string, at time.Time) ([]model.PluginCommand, error) {
	if name != "overdue" {
		return nil, errors.New("no such job")
	}
	var out []model.PluginCommand
	for _, jur := range m.jurs {
		for after := ""; ; {
			recs, next, err := m.host.Records(ctx, jur, "cases", after, 500)
			if err != nil {
				return nil, err
			}
			for _, rec := range recs {
				var c mediationCase
				if json.Unmarshal(rec.Value, &c) != nil || c.Outcome != "" || !at.After(c.Due) {
					continue
				}
				out = append(out, model.PluginCommand{Op: model.OpAct, Event: c.Event,
					Action: &model.Action{Action: "supervise", Note: fmt.Sprintf("人民调解·%s 逾期（应于 %s 前完成），督办", c.Step, c.Due.In(cst).Format("2006-01-02"))}})
			}
			if after = next; next == "" {
				break
			}
		}
	}
	return out, nil
}

func problem(status int, field, detail string) sdk.HTTPResponse {
	return sdk.HTTPResponse{Status: status, Body: map[string]any{"title": "mediation", "status": status, "field": field, "detail": detail}}
}

func main() { sdk.Serve(&mediation{}) }
