// Command qijiang is the 綦江 example plugin, its daily risk routine
// (日排查、日研判、日点名、日调度、日报告):
//
//   - a daily checklist per grid, filed by its grid worker
//     (POST /checklists/{grid}); each risk found opens an event;
//   - a cutoff (18:00) after which grids that filed nothing are named
//     (日点名): an event per grid, supervised (督办) at once;
//   - a daily report per township (20:30) and a weekly 研判 summary of
//     risks by category (Mondays 09:00), kept in plugin state;
//   - the closed loop 排查 → 研判 → 交办 → 督办 → 反馈 for each risk,
//     every step on the event's timeline.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/plugins/sdk"
)

const name = "qijiang"

var cst = time.FixedZone("CST", 8*3600)

// missed is the category of a grid that filed no checklist by the cutoff.
const missed = "qj_missed_check"

type config struct {
	Items []string `json:"items"` // the checklist's items
}

var defaultItems = []string{"矛盾纠纷", "安全隐患", "重点人员", "出租房屋", "消防通道"}

// checklist is one grid's daily check (collection "checklists", key
// <date>.<grid>, at the plugin's jurisdiction that covers the grid).
type checklist struct {
	Grid     string    `json:"grid"`
	Township string    `json:"township"`
	Date     string    `json:"date"`
	Items    []item    `json:"items"`
	Risks    []risk    `json:"risks"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
}

type item struct {
	Item string `json:"item"`
	OK   bool   `json:"ok"`
	Note string `json:"note,omitempty"`
}

type risk struct {
	Category    string `json:"category"`
	Description string `json:"description"`
}

// summary is a daily report or a weekly 研判 (collections "daily" and
// "weekly", key <date or week>.<township>).
type summary struct {
	Township string         `json:"township"`
	Period   string         `json:"period"`
	Grids    int            `json:"grids"`
	Filed    int            `json:"filed"`
	Missing  []string       `json:"missing,omitempty"`
	Risks    map[string]int `json:"risks"` // by category
}

type qijiang struct {
	host sdk.Host
	cfg  config
	jurs []string
}

func (q *qijiang) UseHost(h sdk.Host) { q.host = h }

func (q *qijiang) Configure(_ context.Context, s sdk.Setup) error {
	q.jurs, q.cfg = s.Jurisdictions, config{Items: defaultItems}
	if len(s.Config) > 0 {
		return json.Unmarshal(s.Config, &q.cfg)
	}
	return nil
}

func (q *qijiang) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Name: name, Version: "1.1.0",
		Categories: []model.Category{{Code: missed, Number: "QJ01", Name: "日排查未报"}},
		Fields:     json.RawMessage(`{"type":"object","properties":{"step":{"type":"string","title":"闭环环节","enum":["排查","研判","交办","督办","反馈"]},"date":{"type":"string","title":"排查日期"}},"additionalProperties":false}`),
		Forms:      []sdk.Form{{Name: "loop", Title: "綦江闭环", Place: "event", Fields: []string{"step", "date"}}},
		Jobs:       []sdk.Job{{Name: "cutoff", Cron: "0 18 * * *"}, {Name: "daily", Cron: "30 20 * * *"}, {Name: "weekly", Cron: "0 9 * * 1"}},
		Routes: []sdk.Route{
			{Method: "GET", Path: "/items", Summary: "日排查的检查项（本辖区配置）"},
			{Method: "POST", Path: "/checklists/{grid}", Summary: "网格员提交当日排查（日排查）", Perm: "report"},
			{Method: "GET", Path: "/daily/{date}", Summary: "乡镇日报告"},
			{Method: "GET", Path: "/weekly/{week}", Summary: "每周研判"},
		}}, nil
}

func ext(step, date string) map[string]json.RawMessage {
	s, _ := json.Marshal(step)
	d, _ := json.Marshal(date)
	return map[string]json.RawMessage{name + ":step": s, name + ":date": d}
}

func (q *qijiang) HandleHTTP(ctx context.Context, r sdk.HTTPRequest) (sdk.HTTPResponse, error) {
	switch r.Route {
	case "/items":
		// What a grid worker's phone shows as the day's checklist.
		return sdk.HTTPResponse{Body: map[string]any{"items": q.cfg.Items}}, nil
	case "/checklists/{grid}":
		return q.file(ctx, r)
	case "/daily/{date}", "/weekly/{week}":
		coll, key := "daily", r.Params["date"]
		if r.Route == "/weekly/{week}" {
			coll, key = "weekly", r.Params["week"]
		}
		if len(r.Jurisdiction) != 9 {
			return problem(400, "jurisdiction", "name a township (9 digits)"), nil
		}
		jur := sdk.Covering(q.jurs, r.Jurisdiction)
		raw, found, err := q.host.Record(ctx, jur, coll, key+"."+r.Jurisdiction)
		if err != nil {
			return sdk.HTTPResponse{}, err
		}
		if !found {
			return problem(404, "period", "no report for "+key), nil
		}
		return sdk.HTTPResponse{Body: json.RawMessage(raw)}, nil
	}
	return sdk.HTTPResponse{}, errors.New("no such route")
}

// file takes a grid's checklist (日排查): the record, and an event per risk
// found, which starts its loop at 排查.
func (q *qijiang) file(ctx context.Context, r sdk.HTTPRequest) (sdk.HTTPResponse, error) {
	grid := r.Params["grid"]
	if !model.Under(grid, r.Jurisdiction) || len(grid) <= 12 {
		return problem(404, "grid", "grid "+grid+" not found"), nil
	}
	var c checklist
	if err := json.Unmarshal(r.Body, &c); err != nil {
		return problem(400, "body", "a JSON object with items and risks"), nil
	}
	c.Grid, c.Township, c.By, c.At = grid, grid[:9], r.Caller.TokenID, time.Now().UTC()
	if c.Date == "" {
		c.Date = c.At.In(cst).Format(time.DateOnly)
	}
	if _, err := time.Parse(time.DateOnly, c.Date); err != nil {
		return problem(400, "date", "date is YYYY-MM-DD"), nil
	}
	for _, it := range c.Items {
		if !slices.Contains(q.cfg.Items, it.Item) {
			return problem(400, "items", "unknown item "+it.Item+"; the items are "+strings.Join(q.cfg.Items, "、")), nil
		}
	}
	if len(c.Risks) > 20 {
		return problem(400, "risks", "at most 20 risks per checklist"), nil
	}
	jur := sdk.Covering(q.jurs, grid)
	v, _ := json.Marshal(c)
	cmds := []model.PluginCommand{{Op: model.OpPut, Collection: "checklists", Jurisdiction: jur, Key: c.Date + "." + grid, Value: v}}
	for i, rk := range c.Risks {
		if rk.Category == "" || rk.Description == "" {
			return problem(400, fmt.Sprintf("risks[%d]", i), "a risk names its category and describes it"), nil
		}
		cmds = append(cmds, model.PluginCommand{Op: model.OpReport, ID: fmt.Sprintf("risk-%s-%s-%d", c.Date, grid, i),
			Report: &model.Report{Category: rk.Category, Description: "日排查发现：" + rk.Description, Grid: grid, Ext: ext("排查", c.Date)}})
	}
	return sdk.HTTPResponse{Status: 201, Body: c, Commands: cmds}, nil
}

// OnTransition runs the loop: a risk's report is 研判 at once, its
// dispatch is 交办, its supervision 督办, its resolution 反馈; a grid named
// at the cutoff is supervised.
func (q *qijiang) OnTransition(ctx context.Context, ch model.Change) ([]model.PluginCommand, error) {
	if ch.Kind != model.ChangeEvent {
		return nil, nil
	}
	ev, found, err := q.host.Event(ctx, ch.ID)
	if err != nil || !found {
		return nil, err
	}
	if ev.Category == missed && ch.Action == "report" {
		return []model.PluginCommand{{Op: model.OpAct, Event: ev.ID, Action: &model.Action{Action: "supervise", Note: "日点名：网格未按时完成日排查，督办"}}}, nil
	}
	if _, ours := ev.Ext[name+":step"]; !ours {
		return nil, nil
	}
	var note string
	switch ch.Action {
	case "report":
		level := "一般"
		if ev.Urgency == model.UrgencyUrgent || ev.Category == "fire_safety" || ev.Category == "work_safety" {
			level = "较大"
		}
		note = "研判：风险等级" + level + "，按类别" + ev.Category + "交办处置"
	case "dispatch":
		note = "交办：已派遣 " + strings.TrimPrefix(ev.Handler, "dept:") // a department's identity, named
	case "supervise":
		note = "督办：已督办 " + fmt.Sprint(ev.Supervised) + " 次"
	case "resolve", "self_resolve":
		note = "反馈：处置完毕，待核查"
	case "verify":
		if ev.Status == model.StatusClosed {
			note = "反馈：核查通过，闭环完成"
		}
	}
	if note == "" {
		return nil, nil
	}
	return []model.PluginCommand{{Op: model.OpAct, Event: ev.ID, Action: &model.Action{Action: "comment", Note: "綦江闭环·" + note}}}, nil
}

// RunJob runs the cutoff (日点名), the daily report and the weekly 研判.
func (q *qijiang) RunJob(ctx context.Context, job string, at time.Time) ([]model.PluginCommand, error) {
	day := at.In(cst)
	var out []model.PluginCommand
	for _, jur := range q.jurs {
		grids, err := q.grids(ctx, jur)
		if err != nil {
			return nil, err
		}
		switch job {
		case "cutoff", "daily":
			date := day.Format(time.DateOnly)
			filed, err := q.checklists(ctx, jur, date, date)
			if err != nil {
				return nil, err
			}
			if job == "cutoff" {
				for _, g := range grids {
					if _, ok := filed[g.Code]; !ok {
						out = append(out, model.PluginCommand{Op: model.OpReport, ID: "missed-" + date + "-" + g.Code,
							Report: &model.Report{Category: missed, Description: "日点名：" + g.Name + " 未在 18:00 前完成当日排查", Grid: g.Code, Ext: ext("督办", date)}})
					}
				}
				continue
			}
			out = append(out, summaries(jur, "daily", date, grids, filed)...)
		case "weekly":
			from, to := day.AddDate(0, 0, -7).Format(time.DateOnly), day.AddDate(0, 0, -1).Format(time.DateOnly)
			filed, err := q.checklists(ctx, jur, from, to)
			if err != nil {
				return nil, err
			}
			y, w := day.AddDate(0, 0, -1).ISOWeek()
			out = append(out, summaries(jur, "weekly", fmt.Sprintf("%d-W%02d", y, w), grids, filed)...)
		default:
			return nil, errors.New("no such job")
		}
	}
	return out, nil
}

func (q *qijiang) grids(ctx context.Context, jur string) ([]sdk.Grid, error) {
	var all []sdk.Grid
	for after := ""; ; {
		gs, next, err := q.host.Grids(ctx, jur, after, 500)
		if err != nil {
			return nil, err
		}
		all = append(all, gs...)
		if after = next; next == "" {
			return all, nil
		}
	}
}

// checklists reads the checklists filed from one date to another, by grid.
func (q *qijiang) checklists(ctx context.Context, jur, from, to string) (map[string][]checklist, error) {
	out := map[string][]checklist{}
	for after := from; ; {
		recs, next, err := q.host.Records(ctx, jur, "checklists", after, 500)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if r.Key > to+".~" {
				return out, nil
			}
			var c checklist
			if json.Unmarshal(r.Value, &c) == nil {
				out[c.Grid] = append(out[c.Grid], c)
			}
		}
		if after = next; next == "" {
			return out, nil
		}
	}
}

// summaries are the reports per township of one period.
func summaries(jur, coll, period string, grids []sdk.Grid, filed map[string][]checklist) []model.PluginCommand {
	by := map[string]*summary{}
	for _, g := range grids {
		t := g.Code[:9]
		s := by[t]
		if s == nil {
			s = &summary{Township: t, Period: period, Risks: map[string]int{}}
			by[t] = s
		}
		s.Grids++
		if cs := filed[g.Code]; len(cs) > 0 {
			s.Filed++
			for _, c := range cs {
				for _, r := range c.Risks {
					s.Risks[r.Category]++
				}
			}
		} else {
			s.Missing = append(s.Missing, g.Code)
		}
	}
	var out []model.PluginCommand
	for _, t := range slices.Sorted(maps.Keys(by)) {
		v, _ := json.Marshal(by[t])
		out = append(out, model.PluginCommand{Op: model.OpPut, Collection: coll, Jurisdiction: jur, Key: period + "." + t, Value: v})
	}
	return out
}

func problem(status int, field, detail string) sdk.HTTPResponse {
	return sdk.HTTPResponse{Status: status, Body: map[string]any{"title": name, "status": status, "field": field, "detail": detail}}
}

func main() { sdk.Serve(&qijiang{}) }
