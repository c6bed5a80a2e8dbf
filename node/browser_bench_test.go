package node

import (
	"fmt"
	"sort"
	"testing"
	"time"

	bt "github.com/fengqiao/fengqiao/node/internal/browsertest"

	"github.com/chromedp/chromedp"
)

// BenchmarkConsoleBudgets measures the console's budgets in chromium on the
// demo (issue 25): the first render on loopback, a queue of 1,000 events
// (load, rows in the DOM, frame times while scrolling) and the map of all
// 綦江 grids. A timing is a figure, not a pass/fail test:
//
//	go test ./node/ -run '^$' -bench BenchmarkConsoleBudgets -benchtime 1x
func BenchmarkConsoleBudgets(b *testing.B) {
	c := startDemo(b)
	const qijiang = 1
	// 1,000 open events on top of the sample, reported through the API.
	start := time.Now()
	for i := range 1000 {
		if code, err := c.do(qijiang, "POST", "/api/v1/events", c.token, map[string]any{"category": "sanitation",
			"description": fmt.Sprintf("预算测试 %d", i), "jurisdiction": "500110"}, nil); code != 201 {
			b.Fatalf("report %d: %d %v", i, code, err)
		}
	}
	b.Logf("1,000 reports in %v", time.Since(start).Round(time.Millisecond))
	ctx := bt.Browser(b)
	for b.Loop() {
		// First render: a cold load of the console to its sign-in form.
		if err := chromedp.Do(ctx, chromedp.Navigate(c.url(qijiang)+"/?cold="+fmt.Sprint(time.Now().UnixNano()))); err != nil {
			b.Fatal(err)
		}
		first := bt.PollValue[float64](b, ctx, "document.querySelector('#token') && performance.now()")
		fcp := bt.PollValue[float64](b, ctx, "(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || 0")
		// Signed in, the queue of everything: load to the first rows.
		bt.JS[bool](b, ctx, fmt.Sprintf("(sessionStorage.setItem('fq.token', %q), true)", c.token))
		if err := chromedp.Do(ctx, chromedp.Navigate(c.url(qijiang)+"/?q="+fmt.Sprint(time.Now().UnixNano())+"#/queue")); err != nil {
			b.Fatal(err)
		}
		queue := bt.PollValue[float64](b, ctx, "document.querySelectorAll('.vrow').length > 0 && +document.querySelector('#count').textContent.replace(/\\D/g, '') >= 1000 && performance.now()")
		rows := bt.JS[int](b, ctx, "document.querySelectorAll('.vrow').length")
		loaded := bt.JS[int](b, ctx, "+document.querySelector('#count').textContent.replace(/\\D/g, '')")
		// Scroll the whole list, 10 rows a frame, timing each frame.
		frames := bt.JS[[]float64](b, ctx, `new Promise(done => { const l = document.querySelector('#queue'); const out = []; let last = performance.now();
			const step = () => { const now = performance.now(); out.push(now - last); last = now;
				if (l.scrollTop + l.clientHeight >= l.scrollHeight - 1 || out.length > 400) return done(out.slice(1));
				l.scrollTop += 360; requestAnimationFrame(step); };
			requestAnimationFrame(step); })`)
		maxRows := bt.JS[int](b, ctx, "document.querySelectorAll('.vrow').length")
		sort.Float64s(frames)
		// The map of every 綦江 grid, as the page times it.
		bt.JS[bool](b, ctx, "(location.hash = '#/map', true)")
		mapMs := bt.PollValue[float64](b, ctx, "document.querySelector('#map') && +document.querySelector('#map').dataset.drawnMs")
		grids := bt.JS[int](b, ctx, "+document.querySelector('#map').dataset.grids")
		// Baselines from the same run: a tiny static file from the same
		// node (the floor under any first render), an idle frame (the floor
		// under a scrolling one), and fetching and parsing the grids alone
		// (the floor under drawing them).
		tiny := bt.JS[float64](b, ctx, "(async () => { const t0 = performance.now(); await (await fetch('/m/icon.svg?' + Math.random())).text(); return performance.now() - t0; })()")
		idle := bt.JS[[]float64](b, ctx, `new Promise(done => { const out = []; let last = performance.now();
			const step = () => { const now = performance.now(); out.push(now - last); last = now; out.length > 60 ? done(out.slice(1)) : requestAnimationFrame(step); };
			requestAnimationFrame(step); })`)
		sort.Float64s(idle)
		fetchGrids := bt.JS[float64](b, ctx, fmt.Sprintf(`(async () => { const t0 = performance.now(); let next = '';
			do { const r = await fetch('/api/v1/grids?jurisdiction=500110&limit=1000' + (next ? '&cursor=' + next : ''), {headers: {Authorization: 'Bearer %s'}}); const fc = await r.json(); next = fc.next || ''; } while (next);
			return performance.now() - t0; })()`, c.token))
		b.ReportMetric(tiny, "baseline-static-ms")
		b.ReportMetric(idle[len(idle)*95/100], "baseline-idle-p95-frame-ms")
		b.ReportMetric(fetchGrids, "baseline-grids-fetch-ms")
		b.ReportMetric(first, "first-render-ms")
		b.ReportMetric(fcp, "fcp-ms")
		b.ReportMetric(queue, "queue-1000-ms")
		b.ReportMetric(float64(max(rows, maxRows)), "queue-dom-rows")
		b.ReportMetric(frames[len(frames)*95/100], "scroll-p95-frame-ms")
		b.ReportMetric(frames[len(frames)-1], "scroll-max-frame-ms")
		b.ReportMetric(mapMs, "map-ms")
		b.Logf("queue: %d events loaded, %d rows in the DOM; map: %d grids", loaded, max(rows, maxRows), grids)
	}
}
