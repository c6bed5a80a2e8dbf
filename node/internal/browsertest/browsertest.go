// Package browsertest drives Debian's chromium through chromedp for the
// console's tests: one headless browser per test, tabs with their own
// storage, waits on JavaScript predicates that say what they waited for,
// and screenshots kept as artefacts ($FENGQIAO_ARTIFACTS). Only tests
// import it.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser starts one headless chromium for the test.
func Browser(t testing.TB) context.Context {
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

// Tab opens another tab of the same browser (its own sessionStorage).
func Tab(t testing.TB, parent context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	return ctx
}

func Artifacts(t testing.TB) string {
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

// Shot saves a screenshot of the tab as <test>-<name>.png, and with
// FENGQIAO_UPDATE_SCREENSHOTS=1 also as docs/console/<name>.png.
func Shot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	file := filepath.Join(Artifacts(t), strings.ReplaceAll(t.Name(), "/", "-")+"-"+name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Error(err)
	}
	if os.Getenv("FENGQIAO_UPDATE_SCREENSHOTS") == "1" {
		os.WriteFile(filepath.Join(docsDir(), name+".png"), png, 0o644)
	}
}

// Until waits for a JavaScript predicate to hold in the tab, and says
// what it waited for (with a screenshot) when it does not.
func Until(t testing.TB, ctx context.Context, what, expr string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	if _, err := chromedp.Run(wctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		Shot(t, ctx, "failed")
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("'last error: ' + (document.body.dataset.lastError || 'none') + '\\n' + document.body.innerText.slice(0, 2000)"))
		t.Fatalf("waiting for %s (%s): %v\npage:\n%s", what, expr, err, body)
	}
}

// PollValue waits for an expression to be truthy and answers its value.
func PollValue[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(wctx, chromedp.Poll[T](expr))
	if err != nil {
		t.Fatalf("waiting for %s: %v", expr, err)
	}
	return v
}

// JS runs a statement in the tab and decodes its value.
func JS[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// Fill sets a form control's value as typing would, and tells the page.
func Fill(t testing.TB, ctx context.Context, sel, value string) {
	t.Helper()
	JS[bool](t, ctx, fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.value = %q;
		el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, sel, value))
}

// Click waits for an element to be there and to stand still (a Leaflet
// popup pans the map into view as it opens), then clicks where it is.
func Click(t testing.TB, ctx context.Context, sel string) {
	t.Helper()
	Until(t, ctx, sel, fmt.Sprintf("document.querySelector(%q) !== null", sel))
	JS[bool](t, ctx, fmt.Sprintf(`new Promise(done => { let last = '', same = 0;
		const step = () => { const el = document.querySelector(%q); const r = el ? JSON.stringify(el.getBoundingClientRect()) : '';
			same = r === last ? same + 1 : 0; last = r; same >= 5 ? done(true) : requestAnimationFrame(step); };
		requestAnimationFrame(step); })`, sel))
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
}

// docsDir is docs/console at the top of the module, found from the working
// directory (a package's directory while testing).
func docsDir() string {
	dir, _ := os.Getwd()
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "docs", "console")
		}
	}
	return filepath.Join(dir, "docs", "console")
}

// ClickMapOnGrid clicks the console's map in the middle of the first grid
// it drew (the map is a canvas: there is no element per grid to click).
func ClickMapOnGrid(t testing.TB, ctx context.Context) {
	t.Helper()
	JS[bool](t, ctx, `(() => { const box = document.querySelector('#map'), m = box.leaflet; let g = null;
		m.eachLayer(x => { if (!g && x.feature && x.feature.geometry.type === 'Polygon') g = x; });
		const p = m.latLngToContainerPoint(g.getBounds().getCenter()), r = box.getBoundingClientRect();
		box.querySelector('.leaflet-pane').dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: r.left + p.x, clientY: r.top + p.y}));
		return true; })()`)
}

// SignIn opens page (the console or the phone view) and submits its
// sign-in form with token; the caller waits for what should follow.
func SignIn(t testing.TB, ctx context.Context, page, token string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	Until(t, ctx, "the sign-in form", "document.querySelector('#token') !== null")
	Fill(t, ctx, "#token", token)
	Click(t, ctx, "#signin button[type=submit]")
}
