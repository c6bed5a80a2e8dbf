package node

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/idcard"

	bt "github.com/fengqiao/fengqiao/node/internal/browsertest"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The console in a real browser: Debian's chromium driven by chromedp
// against the demo federation. CI installs chromium (.ci/run) and these
// tests run there; without a browser they fail and say how to get one.
// Screenshots are kept in $FENGQIAO_ARTIFACTS (default: a directory under
// the system's temporary directory), named by test and step.

// signIn opens the console of demo node i and signs in with token.
func signIn(t testing.TB, ctx context.Context, c demoClient, i int, token string) {
	t.Helper()
	bt.SignIn(t, ctx, c.url(i)+"/", token)
	bt.Until(t, ctx, "the navigation after sign-in", "document.querySelectorAll('#nav a').length > 0")
}

func navigate(t testing.TB, ctx context.Context, hash string) {
	t.Helper()
	bt.JS[bool](t, ctx, fmt.Sprintf("(location.hash = %q, true)", hash))
}

// issueToken makes a token at demo node i through the API.
func issueToken(t testing.TB, c demoClient, i int, role, scope string) string {
	t.Helper()
	var is struct {
		Secret string `json:"secret"`
	}
	if code, err := c.do(i, "POST", "/api/v1/tokens", c.token, map[string]any{"name": role + "测试", "role": role, "scope": scope}, &is); code != 201 {
		t.Fatalf("issue %s@%s: %d %v", role, scope, code, err)
	}
	return is.Secret
}

func TestConsoleInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo federation and chromium")
	}
	c := startDemo(t)
	bctx := bt.Browser(t)
	const qijiang = 1 // 綦江区, the demo's county with grids, people and events

	var eventID string
	t.Run("SignInMapAndReport", func(t *testing.T) {
		ctx := bt.Tab(t, bctx)
		signIn(t, ctx, c, qijiang, c.token)
		bt.Shot(t, ctx, "queue")
		navigate(t, ctx, "#/map")
		bt.Until(t, ctx, "the grid polygons", "document.querySelector('#map') && +document.querySelector('#map').dataset.grids > 0")
		bt.Until(t, ctx, "the grids drawn on the canvas", "document.querySelectorAll('#map canvas').length > 0")
		bt.Shot(t, ctx, "map")
		// Report by clicking the map, on one of its grids.
		bt.Click(t, ctx, "#report-mode")
		bt.ClickMapOnGrid(t, ctx)
		bt.Until(t, ctx, "the report form", "document.querySelector('#report-form') !== null")
		bt.Fill(t, ctx, "#report-description", "浏览器测试：路灯损坏")
		bt.Click(t, ctx, "#report-form button[type=submit]")
		bt.Until(t, ctx, "the report's number", "!!document.querySelector('#map').dataset.reported")
		eventID = bt.JS[string](t, ctx, "document.querySelector('#map').dataset.reported")
		// The other pages draw, and the English switch turns the console over.
		navigate(t, ctx, "#/party")
		bt.Until(t, ctx, "party coverage", "document.querySelector('#coverage') !== null")
		bt.Shot(t, ctx, "party")
		navigate(t, ctx, "#/plugins")
		bt.Until(t, ctx, "the plugin catalog and backup", "document.querySelector('#plugins') !== null && document.querySelector('#backup') !== null")
		bt.Shot(t, ctx, "plugins")
		bt.Click(t, ctx, "#lang")
		bt.Until(t, ctx, "the console in English", "document.querySelector('#nav a').textContent === 'Queue'")
		navigate(t, ctx, "#/event/"+eventID)
		bt.Until(t, ctx, "an action in English", `document.querySelector('form[data-action="accept"] b')?.textContent === 'Accept'`)
		bt.Click(t, ctx, "#lang")
		bt.Until(t, ctx, "the console in Chinese again", "document.querySelector('#nav a').textContent === '工作台'")
		// Every filter of the queue is the server's, overdue included.
		navigate(t, ctx, "#/queue?overdue=true&urgency=urgent&supervised=true&category=dispute")
		bt.Until(t, ctx, "the filtered queue", "document.querySelector('#count') && document.querySelector('#count').textContent !== ''")
		if e := bt.JS[string](t, ctx, "document.body.dataset.lastError || ''"); e != "" {
			t.Errorf("the filtered queue failed: %s", e)
		}
	})
	t.Run("LifecycleLive", func(t *testing.T) {
		if eventID == "" {
			t.Fatal("SignInMapAndReport reported no event to take further")
		}
		// A second tab watches the queue and another the figures; neither reloads.
		queue := bt.Tab(t, bctx)
		signIn(t, queue, c, qijiang, c.token)
		navigate(t, queue, "#/queue?q="+"路灯损坏")
		bt.Until(t, queue, "the event in the queue", fmt.Sprintf("document.querySelector('.vrow[data-id=%q]') !== null", eventID))
		bt.JS[bool](t, queue, "(window.__noReload = true, true)")
		figures := bt.Tab(t, bctx)
		signIn(t, figures, c, qijiang, c.token)
		navigate(t, figures, "#/figures")
		bt.Until(t, figures, "the figures", "document.querySelector('[data-kpi=closed] b') !== null")
		bt.Until(t, figures, "the charts by month, 通报 and grid", "['#trend', '#bulletin-chart', '#grid-chart'].every(s => document.querySelector(s + ' canvas'))")
		closedBefore := bt.JS[int](t, figures, "+document.querySelector('[data-kpi=closed] b').textContent")
		bt.JS[bool](t, figures, "(window.__noReload = true, true)")

		ctx := bt.Tab(t, bctx)
		signIn(t, ctx, c, qijiang, c.token)
		navigate(t, ctx, "#/event/"+eventID)
		bt.Until(t, ctx, "the event page", "document.querySelector('#event-status') !== null")
		// A form checks what it needs before sending: dispatch without a handler.
		step := func(action, want string, fields map[string]string) {
			t.Helper()
			form := fmt.Sprintf("form[data-action=%q]", action)
			bt.Until(t, ctx, "the "+action+" form", fmt.Sprintf("document.querySelector(%q) !== null", form))
			for name, v := range fields {
				bt.Fill(t, ctx, fmt.Sprintf("%s [name=%q]", form, name), v)
			}
			bt.Click(t, ctx, form+" button[type=submit]")
			bt.Until(t, ctx, "status "+want, fmt.Sprintf("document.querySelector('#event-status').dataset.status === %q", want))
			bt.Until(t, queue, "the queue showing "+want, fmt.Sprintf("document.querySelector('.vrow[data-id=%q]')?.dataset.status === %q", eventID, want))
		}
		step("accept", "accepted", nil)
		bt.Click(t, ctx, `form[data-action="dispatch"] button[type=submit]`)
		bt.Until(t, ctx, "the missing handler named beside its field", `document.querySelector('form[data-action="dispatch"] .field[data-field="handler"]').classList.contains('bad')`)
		step("dispatch", "dispatched", map[string]string{"handler": "dept:城管"})
		step("sign", "in_progress", nil)
		step("resolve", "resolved", map[string]string{"note": "已更换路灯"})
		step("verify", "closed", map[string]string{"passed": "true"})
		bt.Shot(t, ctx, "event")
		bt.Until(t, figures, "the closed count rising without a reload", fmt.Sprintf("+document.querySelector('[data-kpi=closed] b').textContent > %d", closedBefore))
		step("rate", "closed", map[string]string{"satisfaction": "satisfied"})
		bt.Until(t, ctx, "the rating in the timeline", "document.querySelector('#timeline [data-action=rate]') !== null")
		for _, tb := range []context.Context{queue, figures} {
			if !bt.JS[bool](t, tb, "window.__noReload === true") {
				t.Error("a watching tab reloaded")
			}
		}
		bt.Shot(t, queue, "queue-live")
		bt.Shot(t, figures, "figures")
	})

	t.Run("TownshipDeniedOtherTownship", func(t *testing.T) {
		// Two townships of 綦江; an event in the second, a token of the first.
		var j struct {
			Children []struct{ Code string } `json:"children"`
		}
		c.do(qijiang, "GET", "/api/v1/jurisdictions/500110", c.token, nil, &j)
		if len(j.Children) < 2 {
			t.Fatalf("綦江 has %d townships", len(j.Children))
		}
		var ev struct{ ID string }
		if code, err := c.do(qijiang, "POST", "/api/v1/events", c.token, map[string]any{"category": "dispute", "description": "邻镇的事件",
			"jurisdiction": j.Children[1].Code}, &ev); code != 201 {
			t.Fatalf("report: %d %v", code, err)
		}
		ctx := bt.Tab(t, bctx)
		signIn(t, ctx, c, qijiang, issueToken(t, c, qijiang, "township_operator", j.Children[0].Code))
		navigate(t, ctx, "#/event/"+ev.ID)
		bt.Until(t, ctx, "the event answered as missing", "document.querySelector('#event-missing') !== null")
		if txt := bt.JS[string](t, ctx, "document.querySelector('#event-missing').textContent"); !strings.Contains(txt, "没有找到") {
			t.Errorf("another township's event shows %q", txt)
		}
		bt.Shot(t, ctx, "denied")
	})

	t.Run("RevealAfterPurpose", func(t *testing.T) {
		ctx := bt.Tab(t, bctx)
		signIn(t, ctx, c, qijiang, c.token)
		navigate(t, ctx, "#/people")
		bt.Until(t, ctx, "the masked list", "document.querySelector('.person-row') !== null")
		masked := bt.JS[string](t, ctx, "document.querySelector('.person-row td').textContent")
		if !strings.Contains(masked, "*") {
			t.Errorf("the list shows %q, not a masked name", masked)
		}
		bt.Click(t, ctx, ".person-row")
		bt.Until(t, ctx, "the reveal form", "document.querySelector('#reveal-form') !== null")
		bt.Click(t, ctx, "#reveal-form button[type=submit]")
		bt.Until(t, ctx, "the purpose asked for", `document.querySelector('#reveal-form .field[data-field="purpose"]').classList.contains('bad')`)
		if bt.JS[bool](t, ctx, "document.querySelector('#revealed-name') !== null") {
			t.Fatal("revealed without a purpose")
		}
		bt.Fill(t, ctx, "#reveal-purpose", "入户走访核实居住情况")
		bt.Click(t, ctx, "#reveal-form button[type=submit]")
		bt.Until(t, ctx, "the name in the clear", "document.querySelector('#revealed-name') !== null")
		if name := bt.JS[string](t, ctx, "document.querySelector('#revealed-name').textContent"); name == "" || strings.Contains(name, "*") {
			t.Errorf("revealed name %q", name)
		}
		bt.Shot(t, ctx, "people")
	})

	t.Run("PhoneOfflineSyncsOnce", func(t *testing.T) {
		var fc struct {
			Features []struct {
				ID string `json:"id"`
			} `json:"features"`
		}
		c.do(qijiang, "GET", "/api/v1/grids?jurisdiction=500110&limit=1", c.token, nil, &fc)
		if len(fc.Features) == 0 {
			t.Fatal("no grid in 綦江")
		}
		grid := fc.Features[0].ID
		ctx := bt.Tab(t, bctx)
		// A phone's screen.
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(c.url(qijiang)+"/m/")); err != nil {
			t.Fatal(err)
		}
		bt.Until(t, ctx, "the phone's sign-in", "document.querySelector('#token') !== null")
		bt.Fill(t, ctx, "#token", issueToken(t, c, qijiang, "grid_worker", grid))
		bt.Click(t, ctx, "#signin button[type=submit]")
		bt.Until(t, ctx, "the report form", "document.querySelector('#report #description') !== null")
		bt.Shot(t, ctx, "phone")
		// Installable: the manifest, and a service worker for /m/ that keeps the shell.
		if scope := bt.JS[string](t, ctx, "navigator.serviceWorker.ready.then(r => r.scope)"); !strings.HasSuffix(scope, "/m/") {
			t.Errorf("service worker scope %q", scope)
		}
		if name := bt.JS[string](t, ctx, "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json()).then(m => m.display + ' ' + m.start_url)"); name != "standalone /m/" {
			t.Errorf("manifest: %q", name)
		}
		offline := func(off bool) {
			t.Helper()
			err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
					return err
				}
				conds := []*network.Conditions{}
				if off {
					conds = append(conds, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
				}
				if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: conds}); err != nil {
					return err
				}
				_, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1})
				return err
			}))
			if err != nil {
				t.Fatalf("offline=%v: %v", off, err)
			}
		}
		offline(true)
		bt.Until(t, ctx, "the page knowing it is offline", "navigator.onLine === false")
		desc := fmt.Sprintf("离线上报：井盖缺失 %d", time.Now().UnixNano())
		bt.Fill(t, ctx, "#description", desc)
		bt.Click(t, ctx, "#report button[type=submit]")
		bt.Until(t, ctx, "the report waiting in the outbox", "document.querySelector('#net').dataset.pending === '1'")
		bt.Shot(t, ctx, "phone-offline")
		// A sync whose answer was lost would leave the report in the outbox
		// after the server made it: copy it, key and all, so two go out.
		bt.JS[bool](t, ctx, `new Promise((ok, bad) => { const r = indexedDB.open('fengqiao-m', 1); r.onsuccess = () => {
			const tx = r.result.transaction('outbox', 'readwrite'); const s = tx.objectStore('outbox');
			s.getAll().onsuccess = e => { const it = {...e.target.result[0]}; delete it.local; s.add(it); };
			tx.oncomplete = () => ok(true); tx.onerror = () => bad(tx.error); }; })`)
		offline(false)
		bt.Until(t, ctx, "the outbox emptied", "navigator.onLine && document.querySelector('#net').dataset.pending === '0'")
		var page struct {
			Events []struct {
				ID   string `json:"id"`
				Grid string `json:"grid"`
			} `json:"events"`
		}
		c.do(qijiang, "GET", "/api/v1/events?q="+strings.ReplaceAll(desc[len("离线上报："):], " ", "%20"), c.token, nil, &page)
		if len(page.Events) != 1 || page.Events[0].Grid != grid {
			t.Fatalf("the offline report made %d events (want one, on grid %s): %+v", len(page.Events), grid, page.Events)
		}
	})

	t.Run("HandoverAccepted", func(t *testing.T) {
		// 武侯区 hands a 社区矫正 subject over to 綦江区, over their peer link.
		const wuhou = 4
		var j struct {
			Children []struct{ Code string } `json:"children"`
		}
		c.do(wuhou, "GET", "/api/v1/jurisdictions/510107", c.token, nil, &j)
		c.do(wuhou, "GET", "/api/v1/jurisdictions/"+j.Children[0].Code, c.token, nil, &j)
		const first = "51010719900101001"
		var p struct{ ID string }
		if code, err := c.do(wuhou, "POST", "/api/v1/people", c.token, map[string]any{"name": "吴某某", "id_number": first + string(idcard.CheckDigit(first)),
			"kind": "registered", "jurisdiction": j.Children[0].Code}, &p); code != 201 {
			t.Fatalf("person: %d %v", code, err)
		}
		if code, err := c.do(wuhou, "POST", "/api/v1/people/"+p.ID+"/special", c.token, map[string]any{"category": "community_correction", "level": 2,
			"since": "2026-03-01T00:00:00Z", "details": map[string]any{"correction_type": "probation", "term_start": "2026-03-01", "term_end": "2027-08-31", "offense": "盗窃罪"}}, nil); code != 200 {
			t.Fatalf("special: %d %v", code, err)
		}
		// Handed over in 武侯's console, from the person's page.
		out := bt.Tab(t, bctx)
		signIn(t, out, c, wuhou, c.token)
		navigate(t, out, "#/people?id="+p.ID)
		bt.Until(t, out, "the handover form", "document.querySelector('#handover-form') !== null")
		bt.Fill(t, out, "#handover-to", "500110")
		bt.Click(t, out, "#handover-form button[type=submit]")
		bt.Until(t, out, "the deadline asked for", `document.querySelector('#handover-form .field[data-field="deadline"]').classList.contains('bad')`)
		bt.Fill(t, out, "#handover-deadline", time.Now().Add(48*time.Hour).Format(time.DateOnly))
		bt.Fill(t, out, "#handover-note", "迁居綦江区")
		bt.Click(t, out, "#handover-form button[type=submit]")
		bt.Until(t, out, "the handover opened", "!!document.querySelector('#handover-form').dataset.handover")
		h := struct{ ID string }{bt.JS[string](t, out, "document.querySelector('#handover-form').dataset.handover")}
		// The subject's sealed identity crossed the link; no answer carries it.
		var raw json.RawMessage
		c.do(wuhou, "GET", "/api/v1/handovers", c.token, nil, &raw)
		if !strings.Contains(string(raw), h.ID) || strings.Contains(string(raw), "_sealed") {
			t.Errorf("the handover listing: %s", raw)
		}
		ctx := bt.Tab(t, bctx)
		signIn(t, ctx, c, qijiang, c.token)
		navigate(t, ctx, "#/federation")
		row := fmt.Sprintf(".handover-row[data-id=%q]", h.ID)
		bt.Until(t, ctx, "the handover waiting at 綦江", fmt.Sprintf("document.querySelector('%s[data-status=pending] .accept-handover') !== null", row))
		bt.Shot(t, ctx, "handover")
		bt.Click(t, ctx, row+" .accept-handover")
		bt.Until(t, ctx, "the handover accepted", fmt.Sprintf("document.querySelector('%s')?.dataset.status === 'accepted'", row))
	})

	t.Run("CrossRegionCase", func(t *testing.T) {
		const rongchang, longchang = 2, 6
		ctx := bt.Tab(t, bctx)
		signIn(t, ctx, c, rongchang, c.token)
		navigate(t, ctx, "#/federation")
		bt.Until(t, ctx, "the case form", "document.querySelector('#case-form') !== null")
		title := fmt.Sprintf("交界河道污染 %d", time.Now().UnixNano()%100000)
		bt.Fill(t, ctx, "#case-title", title)
		bt.Fill(t, ctx, "#case-participants", "511083")
		bt.Click(t, ctx, "#case-form button[type=submit]")
		bt.Until(t, ctx, "the opened case", "document.querySelector('#entry-form') !== null")
		id := bt.JS[string](t, ctx, "new URLSearchParams(location.hash.split('?')[1]).get('case')")
		bt.Fill(t, ctx, "#entry-text", "荣昌已派员现场取样")
		bt.Click(t, ctx, "#entry-form button[type=submit]")
		bt.Until(t, ctx, "the entry in the timeline", "document.querySelector('#case-timeline').textContent.includes('现场取样')")
		other := bt.Tab(t, bctx)
		signIn(t, other, c, longchang, c.token)
		navigate(t, other, "#/federation")
		bt.Until(t, other, "the case at 隆昌", fmt.Sprintf("document.querySelector('.case-row[data-id=%q]') !== null", id))
		navigate(t, other, "#/federation?case="+id)
		bt.Until(t, other, "荣昌's entry at 隆昌", "document.querySelector('#case-timeline') && document.querySelector('#case-timeline').textContent.includes('现场取样')")
		bt.Shot(t, other, "federation")
	})
}
