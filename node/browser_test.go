package node

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The console in a real browser: Debian's chromium driven by chromedp
// against the demo federation. CI installs chromium (.ci/run) and these
// tests run there; without a browser they fail and say how to get one.
// Screenshots are kept in $FENGQIAO_ARTIFACTS (default: a directory under
// the system's temporary directory), named by test and step.

// browser starts one headless chromium for the test.
func browser(t testing.TB) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Fatal("no chromium on PATH: install it (apt-get install chromium); .ci/run does")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.WindowSize(1400, 900),
		chromedp.Flag("no-sandbox", true), chromedp.Flag("lang", "zh-CN"))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// tab opens another tab of the same browser (its own sessionStorage).
func tab(t testing.TB, parent context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	return ctx
}

func artifacts(t testing.TB) string {
	dir := os.Getenv("FENGQIAO_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "fengqiao-browser")
	}
	dir, _ = filepath.Abs(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// shot saves a screenshot of the tab as <test>-<name>.png, and with
// FENGQIAO_UPDATE_SCREENSHOTS=1 also as docs/console/<name>.png.
func shot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	file := filepath.Join(artifacts(t), strings.ReplaceAll(t.Name(), "/", "-")+"-"+name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Error(err)
	}
	if os.Getenv("FENGQIAO_UPDATE_SCREENSHOTS") == "1" {
		os.WriteFile(filepath.Join("..", "docs", "console", name+".png"), png, 0o644)
	}
}

// until waits for a JavaScript predicate to hold in the tab, and says
// what it waited for (with a screenshot) when it does not.
func until(t testing.TB, ctx context.Context, what, expr string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	if _, err := chromedp.Run(wctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		shot(t, ctx, "failed")
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body.innerText.slice(0, 2000)"))
		t.Fatalf("waiting for %s (%s): %v\npage:\n%s", what, expr, err, body)
	}
}

// pollValue waits for an expression to be truthy and answers its value.
func pollValue[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(wctx, chromedp.Poll[T](expr))
	if err != nil {
		t.Fatalf("waiting for %s: %v", expr, err)
	}
	return v
}

// js runs a statement in the tab and decodes its value.
func js[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// fill sets a form control's value as typing would, and tells the page.
func fill(t testing.TB, ctx context.Context, sel, value string) {
	t.Helper()
	js[bool](t, ctx, fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.value = %q;
		el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, sel, value))
}

func click(t testing.TB, ctx context.Context, sel string) {
	t.Helper()
	until(t, ctx, sel, fmt.Sprintf("document.querySelector(%q) !== null", sel))
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
}

// signIn opens the console of demo node i and signs in with token.
func signIn(t testing.TB, ctx context.Context, c demoClient, i int, token string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(c.url(i)+"/")); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the sign-in form", "document.querySelector('#token') !== null")
	fill(t, ctx, "#token", token)
	click(t, ctx, "#signin button[type=submit]")
	until(t, ctx, "the navigation after sign-in", "document.querySelectorAll('#nav a').length > 0")
}

func navigate(t testing.TB, ctx context.Context, hash string) {
	t.Helper()
	js[bool](t, ctx, fmt.Sprintf("(location.hash = %q, true)", hash))
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
	bctx := browser(t)
	const qijiang = 1 // 綦江区, the demo's county with grids, people and events

	var eventID string
	t.Run("SignInMapAndReport", func(t *testing.T) {
		ctx := tab(t, bctx)
		signIn(t, ctx, c, qijiang, c.token)
		shot(t, ctx, "queue")
		navigate(t, ctx, "#/map")
		until(t, ctx, "the grid polygons", "document.querySelector('#map') && +document.querySelector('#map').dataset.grids > 0")
		until(t, ctx, "the grids drawn on the canvas", "document.querySelectorAll('#map canvas').length > 0")
		shot(t, ctx, "map")
		// Report by clicking the map: the middle of the county's grids.
		click(t, ctx, "#report-mode")
		js[bool](t, ctx, `(() => { const m = document.querySelector('#map'); const r = m.getBoundingClientRect();
			const ev = new MouseEvent('click', {bubbles: true, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2});
			m.querySelector('.leaflet-pane').dispatchEvent(ev); return true; })()`)
		until(t, ctx, "the report form", "document.querySelector('#report-form') !== null")
		fill(t, ctx, "#report-description", "浏览器测试：路灯损坏")
		click(t, ctx, "#report-form button[type=submit]")
		until(t, ctx, "the report's number", "!!document.querySelector('#map').dataset.reported")
		eventID = js[string](t, ctx, "document.querySelector('#map').dataset.reported")
		// The other pages draw, and the English switch turns the console over.
		navigate(t, ctx, "#/party")
		until(t, ctx, "party coverage", "document.querySelector('#coverage') !== null")
		shot(t, ctx, "party")
		navigate(t, ctx, "#/plugins")
		until(t, ctx, "the plugin catalog and backup", "document.querySelector('#plugins') !== null && document.querySelector('#backup') !== null")
		shot(t, ctx, "plugins")
		click(t, ctx, "#lang")
		until(t, ctx, "the console in English", "document.querySelector('#nav a').textContent === 'Queue'")
		click(t, ctx, "#lang")
		until(t, ctx, "the console in Chinese again", "document.querySelector('#nav a').textContent === '工作台'")
	})
	t.Run("LifecycleLive", func(t *testing.T) {
		if eventID == "" {
			t.Fatal("SignInMapAndReport reported no event to take further")
		}
		// A second tab watches the queue and another the figures; neither reloads.
		queue := tab(t, bctx)
		signIn(t, queue, c, qijiang, c.token)
		navigate(t, queue, "#/queue?q="+"路灯损坏")
		until(t, queue, "the event in the queue", fmt.Sprintf("document.querySelector('.vrow[data-id=%q]') !== null", eventID))
		js[bool](t, queue, "(window.__noReload = true, true)")
		figures := tab(t, bctx)
		signIn(t, figures, c, qijiang, c.token)
		navigate(t, figures, "#/figures")
		until(t, figures, "the figures", "document.querySelector('[data-kpi=closed] b') !== null")
		closedBefore := js[int](t, figures, "+document.querySelector('[data-kpi=closed] b').textContent")
		js[bool](t, figures, "(window.__noReload = true, true)")

		ctx := tab(t, bctx)
		signIn(t, ctx, c, qijiang, c.token)
		navigate(t, ctx, "#/event/"+eventID)
		until(t, ctx, "the event page", "document.querySelector('#event-status') !== null")
		// A form checks what it needs before sending: dispatch without a handler.
		step := func(action, want string, fields map[string]string) {
			t.Helper()
			form := fmt.Sprintf("form[data-action=%q]", action)
			until(t, ctx, "the "+action+" form", fmt.Sprintf("document.querySelector(%q) !== null", form))
			for name, v := range fields {
				fill(t, ctx, fmt.Sprintf("%s [name=%q]", form, name), v)
			}
			click(t, ctx, form+" button[type=submit]")
			until(t, ctx, "status "+want, fmt.Sprintf("document.querySelector('#event-status').dataset.status === %q", want))
			until(t, queue, "the queue showing "+want, fmt.Sprintf("document.querySelector('.vrow[data-id=%q]')?.dataset.status === %q", eventID, want))
		}
		step("accept", "accepted", nil)
		click(t, ctx, `form[data-action="dispatch"] button[type=submit]`)
		until(t, ctx, "the missing handler named beside its field", `document.querySelector('form[data-action="dispatch"] .field[data-field="handler"]').classList.contains('bad')`)
		step("dispatch", "dispatched", map[string]string{"handler": "dept:城管"})
		step("sign", "in_progress", nil)
		step("resolve", "resolved", map[string]string{"note": "已更换路灯"})
		step("verify", "closed", map[string]string{"passed": "true"})
		shot(t, ctx, "event")
		until(t, figures, "the closed count rising without a reload", fmt.Sprintf("+document.querySelector('[data-kpi=closed] b').textContent > %d", closedBefore))
		step("rate", "closed", map[string]string{"satisfaction": "satisfied"})
		until(t, ctx, "the rating in the timeline", "document.querySelector('#timeline [data-action=rate]') !== null")
		for _, tb := range []context.Context{queue, figures} {
			if !js[bool](t, tb, "window.__noReload === true") {
				t.Error("a watching tab reloaded")
			}
		}
		shot(t, queue, "queue-live")
		shot(t, figures, "figures")
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
		ctx := tab(t, bctx)
		signIn(t, ctx, c, qijiang, issueToken(t, c, qijiang, "township_operator", j.Children[0].Code))
		navigate(t, ctx, "#/event/"+ev.ID)
		until(t, ctx, "the event answered as missing", "document.querySelector('#event-missing') !== null")
		if txt := js[string](t, ctx, "document.querySelector('#event-missing').textContent"); !strings.Contains(txt, "没有找到") {
			t.Errorf("another township's event shows %q", txt)
		}
		shot(t, ctx, "denied")
	})

	t.Run("RevealAfterPurpose", func(t *testing.T) {
		ctx := tab(t, bctx)
		signIn(t, ctx, c, qijiang, c.token)
		navigate(t, ctx, "#/people")
		until(t, ctx, "the masked list", "document.querySelector('.person-row') !== null")
		masked := js[string](t, ctx, "document.querySelector('.person-row td').textContent")
		if !strings.Contains(masked, "*") {
			t.Errorf("the list shows %q, not a masked name", masked)
		}
		click(t, ctx, ".person-row")
		until(t, ctx, "the reveal form", "document.querySelector('#reveal-form') !== null")
		click(t, ctx, "#reveal-form button[type=submit]")
		until(t, ctx, "the purpose asked for", `document.querySelector('#reveal-form .field[data-field="purpose"]').classList.contains('bad')`)
		if js[bool](t, ctx, "document.querySelector('#revealed-name') !== null") {
			t.Fatal("revealed without a purpose")
		}
		fill(t, ctx, "#reveal-purpose", "入户走访核实居住情况")
		click(t, ctx, "#reveal-form button[type=submit]")
		until(t, ctx, "the name in the clear", "document.querySelector('#revealed-name') !== null")
		if name := js[string](t, ctx, "document.querySelector('#revealed-name').textContent"); name == "" || strings.Contains(name, "*") {
			t.Errorf("revealed name %q", name)
		}
		shot(t, ctx, "people")
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
		ctx := tab(t, bctx)
		if err := chromedp.Do(ctx, chromedp.Navigate(c.url(qijiang)+"/m/")); err != nil {
			t.Fatal(err)
		}
		until(t, ctx, "the phone's sign-in", "document.querySelector('#token') !== null")
		fill(t, ctx, "#token", issueToken(t, c, qijiang, "grid_worker", grid))
		click(t, ctx, "#signin button[type=submit]")
		until(t, ctx, "the report form", "document.querySelector('#report #description') !== null")
		shot(t, ctx, "phone")
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
		until(t, ctx, "the page knowing it is offline", "navigator.onLine === false")
		desc := fmt.Sprintf("离线上报：井盖缺失 %d", time.Now().UnixNano())
		fill(t, ctx, "#description", desc)
		click(t, ctx, "#report button[type=submit]")
		until(t, ctx, "the report waiting in the outbox", "document.querySelector('#net').dataset.pending === '1'")
		shot(t, ctx, "phone-offline")
		// A sync whose answer was lost would leave the report in the outbox
		// after the server made it: copy it, key and all, so two go out.
		js[bool](t, ctx, `new Promise((ok, bad) => { const r = indexedDB.open('fengqiao-m', 1); r.onsuccess = () => {
			const tx = r.result.transaction('outbox', 'readwrite'); const s = tx.objectStore('outbox');
			s.getAll().onsuccess = e => { const it = {...e.target.result[0]}; delete it.local; s.add(it); };
			tx.oncomplete = () => ok(true); tx.onerror = () => bad(tx.error); }; })`)
		offline(false)
		until(t, ctx, "the outbox emptied", "navigator.onLine && document.querySelector('#net').dataset.pending === '0'")
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

	t.Run("CrossRegionCase", func(t *testing.T) {
		const rongchang, longchang = 2, 6
		ctx := tab(t, bctx)
		signIn(t, ctx, c, rongchang, c.token)
		navigate(t, ctx, "#/federation")
		until(t, ctx, "the case form", "document.querySelector('#case-form') !== null")
		title := fmt.Sprintf("交界河道污染 %d", time.Now().UnixNano()%100000)
		fill(t, ctx, "#case-title", title)
		fill(t, ctx, "#case-participants", "511083")
		click(t, ctx, "#case-form button[type=submit]")
		until(t, ctx, "the opened case", "document.querySelector('#entry-form') !== null")
		id := js[string](t, ctx, "new URLSearchParams(location.hash.split('?')[1]).get('case')")
		fill(t, ctx, "#entry-text", "荣昌已派员现场取样")
		click(t, ctx, "#entry-form button[type=submit]")
		until(t, ctx, "the entry in the timeline", "document.querySelector('#case-timeline').textContent.includes('现场取样')")
		other := tab(t, bctx)
		signIn(t, other, c, longchang, c.token)
		navigate(t, other, "#/federation")
		until(t, other, "the case at 隆昌", fmt.Sprintf("document.querySelector('.case-row[data-id=%q]') !== null", id))
		navigate(t, other, "#/federation?case="+id)
		until(t, other, "荣昌's entry at 隆昌", "document.querySelector('#case-timeline') && document.querySelector('#case-timeline').textContent.includes('现场取样')")
		shot(t, other, "federation")
	})
}
