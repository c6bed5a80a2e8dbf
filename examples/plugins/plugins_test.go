package plugins

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
	"github.com/fengqiao/fengqiao/plugins/host"
)

// region is a store of 隆昌市 with the three example plugins built, registered
// and enabled, and the leader's delivery running.
type region struct {
	t     *testing.T
	store *core.Store
	m     *host.Manager
	ctx   context.Context
}

func start(t *testing.T, configs map[string]string) *region {
	t.Helper()
	s, err := core.Open(t.TempDir(), core.Options{Engine: state.EngineOptions{NoSync: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := core.WithActor(context.Background(), "tester")
	if _, err := s.Jurisdictions.LoadCounty(ctx, "511083", 1); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var wg sync.WaitGroup
	for name := range configs {
		wg.Go(func() {
			if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), "./"+name).CombinedOutput(); err != nil {
				t.Errorf("build %s: %v\n%s", name, err, out)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	m := host.NewManager(host.Options{Store: s, Dir: dir, Node: "local", Logger: slog.New(slog.DiscardHandler)})
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { m.Run(rctx); done <- struct{}{} }()
	go func() { m.RunLeader(rctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })
	for name, cfg := range configs {
		sum, _ := host.FileSHA256(filepath.Join(dir, name))
		reg := host.Registration{File: name, SHA256: sum, Jurisdictions: []string{"511083"}}
		if cfg != "" {
			reg.Config = json.RawMessage(cfg)
		}
		v, err := m.Register(ctx, reg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.EnableWhenReported(ctx, v.Name, v.Version, []string{"local"}); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); m.Statuses()[v.Name].State != host.StateRunning; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s does not run: %+v", v.Name, m.Statuses())
			}
		}
	}
	return &region{t: t, store: s, m: m, ctx: ctx}
}

// http calls a plugin's route as a caller of the county would.
func (r *region) http(plugin, method, path, jur string, body any) (int, map[string]any) {
	r.t.Helper()
	raw, _ := json.Marshal(body)
	if body == nil {
		raw = nil
	}
	res, err := r.m.ServeHTTP(r.ctx, plugin, host.HTTPRequest{Method: method, Path: path, Body: raw, Jurisdiction: jur,
		TokenID: "t1", Role: "center_admin", Scope: "511083", Key: fmt.Sprint(time.Now().UnixNano())})
	if err != nil {
		r.t.Fatalf("%s %s %s: %v", plugin, method, path, err)
	}
	var m map[string]any
	json.Unmarshal(res.Body, &m)
	return res.Status, m
}

// act takes actions on an event in order.
func (r *region) act(id string, actions ...model.Action) {
	r.t.Helper()
	for _, a := range actions {
		if _, err := r.store.Events.Act(r.ctx, id, a); err != nil {
			r.t.Fatalf("%s on %s: %v", a.Action, id, err)
		}
	}
}

// waitNote waits for a timeline entry by the plugin holding text.
func (r *region) waitNote(id, plugin, text string) model.TimelineEntry {
	r.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		tl, err := r.store.Events.Timeline(id)
		if err != nil {
			r.t.Fatal(err)
		}
		for _, e := range tl {
			if e.Actor == "plugin:"+plugin && strings.Contains(e.Note, text) {
				return e
			}
		}
	}
	tl, _ := r.store.Events.Timeline(id)
	r.t.Fatalf("event %s: no note of %s with %q in %+v", id, plugin, text, tl)
	return model.TimelineEntry{}
}

func (r *region) grids(under string) []*model.Grid {
	gs, _, err := r.store.Grids.List(under, "", 100)
	if err != nil || len(gs) == 0 {
		r.t.Fatalf("grids under %s: %v", under, err)
	}
	return gs
}

var passed = true

// 积分制: a resident's closed hazard report and volunteer hours, in the
// community's ledger and on its leaderboard.
func TestPoints(t *testing.T) {
	r := start(t, map[string]string{"points": `{"rules":{"default":{"volunteer":2,"safety_report":5}},"salt":"s"}`})
	g := r.grids("511083001")[0]
	ev, err := r.store.Events.Report(r.ctx, model.Report{Category: "fire_safety", Description: "楼道堆放杂物", Grid: g.Code, Source: "resident", Reporter: "李四 13900000000"})
	if err != nil {
		t.Fatal(err)
	}
	var resident string
	if json.Unmarshal(ev.Ext["points:resident"], &resident); !strings.HasPrefix(resident, "r") || strings.Contains(string(ev.Ext["points:resident"]), "李四") {
		t.Fatalf("the report's pseudonym: %s", ev.Ext)
	}
	r.act(ev.ID, model.Action{Action: "accept"}, model.Action{Action: "dispatch", Handler: "消防"}, model.Action{Action: "sign"},
		model.Action{Action: "resolve", Note: "已清理"}, model.Action{Action: "verify", Passed: &passed})
	community := g.Jurisdiction
	if st, body := r.http("points", "POST", "/participation", community, map[string]any{"resident": resident, "kind": "volunteer", "hours": 2, "ref": "2026-12-06-清扫"}); st != 201 {
		t.Fatalf("participation: %d %v", st, body)
	}
	if st, body := r.http("points", "POST", "/participation", community, map[string]any{"resident": resident, "kind": "gambling", "ref": "x"}); st != 400 || body["field"] != "kind" {
		t.Fatalf("a kind without points: %d %v", st, body)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, body := r.http("points", "GET", "/leaderboard", community, nil)
		board, _ := body["leaderboard"].([]any)
		if len(board) == 1 && board[0].(map[string]any)["points"] == float64(9) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the leaderboard: %v", body)
		}
	}
	_, mine := r.http("points", "GET", "/residents/"+resident, community, nil)
	if mine["points"] != float64(9) || len(mine["entries"].([]any)) != 2 {
		t.Fatalf("the resident's ledger: %v", mine)
	}
}

// 枫桥 mediation: a dispute goes to its mediator and through every step,
// each on the timeline; an overdue step is supervised.
func TestMediation(t *testing.T) {
	r := start(t, map[string]string{"mediation": `{"mediators":{"511083001":"王调解员"}}`})
	g := r.grids("511083001")[0]
	ev, err := r.store.Events.Report(r.ctx, model.Report{Category: "dispute", Description: "邻里噪音纠纷", Grid: g.Code})
	if err != nil {
		t.Fatal(err)
	}
	var rt model.Routing
	if json.Unmarshal(ev.Ext[model.ExtRoute], &rt); rt.Handler != "王调解员" || rt.Department != "人民调解委员会" {
		t.Fatalf("routing: %s", ev.Ext[model.ExtRoute])
	}
	r.waitNote(ev.ID, "mediation", "受理：调解员 王调解员")
	base := "/cases/" + ev.ID
	if st, body := r.http("mediation", "POST", base+"/steps", g.Jurisdiction, map[string]any{"step": "回访"}); st != 409 {
		t.Fatalf("skipping steps: %d %v", st, body)
	}
	if st, body := r.http("mediation", "POST", base+"/steps", g.Jurisdiction, map[string]any{"step": "调解", "note": "双方到场"}); st != 200 {
		t.Fatalf("调解: %d %v", st, body)
	}
	if st, _ := r.http("mediation", "POST", base+"/steps", g.Jurisdiction, map[string]any{"step": "达成协议"}); st != 400 {
		t.Fatalf("an agreement without terms: %d", st)
	}
	r.http("mediation", "POST", base+"/steps", g.Jurisdiction, map[string]any{"step": "达成协议", "agreement": map[string]any{"parties": []string{"张三", "李四"}, "terms": "晚十点后不施工"}})
	r.http("mediation", "POST", base+"/steps", g.Jurisdiction, map[string]any{"step": "司法确认", "note": "人民法院确认"})
	// Overdue: the daily job supervises the event.
	if err := r.m.RunJobNow(r.ctx, "mediation", "overdue", time.Now().AddDate(0, 2, 0)); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.store.Events.Get(ev.ID); got.Supervised != 1 {
		t.Fatalf("an overdue step was not supervised: %d", got.Supervised)
	}
	if st, body := r.http("mediation", "POST", base+"/steps", g.Jurisdiction, map[string]any{"step": "回访", "outcome": "满意"}); st != 200 || body["outcome"] != "满意" {
		t.Fatalf("回访: %d %v", st, body)
	}
	r.waitNote(ev.ID, "mediation", "张三、李四 达成协议：晚十点后不施工")
	r.waitNote(ev.ID, "mediation", "调解结案，当事人满意")
	if st, body := r.http("mediation", "GET", base, "511083002", nil); st != 404 {
		t.Fatalf("a case outside the caller's jurisdiction: %d %v", st, body)
	}
}

// 綦江: a checklist with a risk opens an event that runs the loop; the
// cutoff names the grids that filed nothing; the daily report counts both.
func TestQijiangDailyRoutine(t *testing.T) {
	r := start(t, map[string]string{"qijiang": ""})
	grids := r.grids("511083001")
	g := grids[0]
	today := time.Now().In(time.FixedZone("CST", 8*3600))
	date := today.Format(time.DateOnly)
	st, body := r.http("qijiang", "POST", "/checklists/"+g.Code, g.Jurisdiction, map[string]any{"date": date,
		"items": []map[string]any{{"item": "矛盾纠纷", "ok": true}, {"item": "安全隐患", "ok": false, "note": "电动车楼道充电"}},
		"risks": []map[string]any{{"category": "fire_safety", "description": "电动车楼道充电"}}})
	if st != 201 {
		t.Fatalf("the checklist: %d %v", st, body)
	}
	// The phone asks which items to show: the configured ones.
	if st, body := r.http("qijiang", "GET", "/items", g.Jurisdiction, nil); st != 200 || fmt.Sprint(body["items"]) != "[矛盾纠纷 安全隐患 重点人员 出租房屋 消防通道]" {
		t.Fatalf("the items: %d %v", st, body)
	}
	if st, body := r.http("qijiang", "POST", "/checklists/"+g.Code, g.Jurisdiction, map[string]any{"items": []map[string]any{{"item": "天气"}}}); st != 400 || body["field"] != "items" {
		t.Fatalf("an unknown item: %d %v", st, body)
	}
	page, _ := r.store.Events.List(model.Query{Grid: g.Code, Limit: 10})
	if len(page.Events) != 1 || page.Events[0].Source != "plugin" {
		t.Fatalf("the risk's event: %+v", page.Events)
	}
	risk := page.Events[0].ID
	if d := r.m.Statuses()["qijiang"].Description; d == nil || len(d.Forms) != 1 || d.Forms[0].Title != "綦江闭环" || len(d.Categories) != 1 {
		t.Fatalf("what the console is told to render: %+v", d)
	}
	r.waitNote(risk, "qijiang", "研判：风险等级较大")
	r.act(risk, model.Action{Action: "accept"}, model.Action{Action: "dispatch", Handler: "消防大队"})
	r.waitNote(risk, "qijiang", "交办：已派遣 消防大队")
	r.act(risk, model.Action{Action: "supervise", Note: "限期整改"})
	r.waitNote(risk, "qijiang", "督办")
	r.act(risk, model.Action{Action: "sign"}, model.Action{Action: "resolve", Note: "已清理"})
	r.waitNote(risk, "qijiang", "反馈")
	// 18:00: every other grid of the county filed nothing.
	cutoff := time.Date(today.Year(), today.Month(), today.Day(), 18, 0, 0, 0, today.Location())
	if err := r.m.RunJobNow(r.ctx, "qijiang", "cutoff", cutoff); err != nil {
		t.Fatal(err)
	}
	if err := r.m.RunJobNow(r.ctx, "qijiang", "cutoff", cutoff); err != nil { // again: nothing twice
		t.Fatal(err)
	}
	named, _ := r.store.Events.List(model.Query{Jurisdiction: "511083001", Category: "qj_missed_check", Limit: 500})
	if len(named.Events) != len(grids)-1 {
		t.Fatalf("named %d grids of 511083001, want %d", len(named.Events), len(grids)-1)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got, _ := r.store.Events.Get(named.Events[0].ID)
		if got.Supervised == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a grid named at the cutoff was not supervised")
		}
	}
	if err := r.m.RunJobNow(r.ctx, "qijiang", "daily", cutoff.Add(150*time.Minute)); err != nil {
		t.Fatal(err)
	}
	st, rep := r.http("qijiang", "GET", "/daily/"+date, "511083001", nil)
	if st != 200 || rep["filed"] != float64(1) || rep["grids"] != float64(len(grids)) || rep["risks"].(map[string]any)["fire_safety"] != float64(1) {
		t.Fatalf("the township's daily report: %d %v", st, rep)
	}
}
