package api

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/node/console"
	bt "github.com/fengqiao/fengqiao/node/internal/browsertest"
)

// A region's plugin fields in the console, drawn from the plugin's
// declared schema alone: the report form on the map shows the board
// plugin's 受理信息 (a list with its Chinese names, a number), the report
// carries them, and the event page shows them under the form's title.
func TestConsolePluginForms(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium")
	}
	f := newFixture(t)
	f.withPlugins(t)
	f.api.Console = console.Handler()
	ctx := bt.Tab(t, bt.Browser(t))
	bt.SignIn(t, ctx, f.srv.URL+"/#/map", f.town)
	bt.Until(t, ctx, "the grids", "document.querySelector('#map') && +document.querySelector('#map').dataset.grids > 0")
	bt.Click(t, ctx, "#report-mode")
	bt.ClickMapOnGrid(t, ctx)
	bt.Until(t, ctx, "the plugin's form in the report", `document.querySelector('#report-form fieldset[data-plugin="board"] legend')?.textContent === '受理信息'`)
	names := bt.JS[[]string](t, ctx, `[...document.querySelectorAll('#report-form [name="ext.board:hazard"] option')].map(o => o.textContent)`)
	if fmt.Sprint(names) != "[火灾 水患]" {
		t.Errorf("the hazard choices read %v", names)
	}
	bt.Fill(t, ctx, "#report-description", "仓库旁堆放杂物")
	bt.Fill(t, ctx, `#report-form [name="ext.board:hazard"]`, `"flood"`)
	bt.Fill(t, ctx, `#report-form [name="ext.board:people"]`, "4")
	bt.Click(t, ctx, "#report-form button[type=submit]")
	bt.Until(t, ctx, "the report made", "!!document.querySelector('#map').dataset.reported")
	id := bt.JS[string](t, ctx, "document.querySelector('#map').dataset.reported")
	ev, err := f.b.s.Events.Get(id)
	if err != nil || string(ev.Ext["board:hazard"]) != `"flood"` || string(ev.Ext["board:people"]) != "4" {
		t.Fatalf("stored %v %v", ev.Ext, err)
	}
	bt.JS[bool](t, ctx, fmt.Sprintf("(location.hash = '#/event/%s', true)", id))
	bt.Until(t, ctx, "the plugin's fields on the event", `document.querySelector('#ext tr[data-ext="board:hazard"] td')?.textContent === '水患'`)
	bt.Shot(t, ctx, "plugin-fields")
}

// An administrator signs in with the code from an authenticator; a missing
// code is named beside its field, and when the code runs out the console
// asks for a new one and carries on.
func TestConsoleSignInWithTOTP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium")
	}
	f := newFixture(t)
	f.api.Console = console.Handler()
	ctx := bt.Tab(t, bt.Browser(t))
	bt.SignIn(t, ctx, f.srv.URL+"/", f.admin)
	bt.Until(t, ctx, "the code asked for beside its field", `document.querySelector('.field[data-field="otp"]').classList.contains('bad')`)
	bt.Fill(t, ctx, "#token", f.admin)
	bt.Fill(t, ctx, "#otp", f.otpFor(f.admin))
	bt.Click(t, ctx, "#signin button[type=submit]")
	bt.Until(t, ctx, "the console", "document.querySelectorAll('#nav a').length > 0")
	// The code runs out (here: a wrong one takes its place); the next page asks again.
	bt.JS[bool](t, ctx, `import('/js/api.js').then(m => { m.auth.otp = '000000'; location.hash = '#/party'; return true; })`)
	bt.Until(t, ctx, "a fresh code asked for", "document.querySelector('#otp-dialog') !== null")
	bt.Fill(t, ctx, "#otp-again", f.otpFor(f.admin))
	bt.Click(t, ctx, `#otp-dialog button[value="ok"]`)
	bt.Until(t, ctx, "the page after the new code", "document.querySelector('#coverage') !== null")
}

// The grid worker's 日排查 on the phone, where the 綦江 plugin runs: the
// items the plugin is configured with, one marked with what was found,
// filed as the plugin's record for the grid and the day.
func TestPhoneDailyChecklist(t *testing.T) {
	if testing.Short() {
		t.Skip("starts chromium")
	}
	f := newFixture(t)
	f.withPlugin(t, "qijiang", buildPlugin(t, "qijiang", "../../examples/plugins/qijiang"))
	f.api.Console = console.Handler()
	const grid = "511083001001001"
	ctx := bt.Tab(t, bt.Browser(t))
	bt.SignIn(t, ctx, f.srv.URL+"/m/#check", f.issue("grid_worker", grid))
	bt.Until(t, ctx, "the checklist", "document.querySelectorAll('#checklist .item').length === 5")
	if got := bt.JS[string](t, ctx, "[...document.querySelectorAll('#checklist .item span')].map(s => s.textContent).join(',')"); got != "矛盾纠纷,安全隐患,重点人员,出租房屋,消防通道" {
		t.Errorf("items %q", got)
	}
	bt.JS[bool](t, ctx, `(() => { const it = document.querySelectorAll('#checklist .item')[1]; it.querySelector('input[type=checkbox]').checked = false;
		it.querySelector('input:not([type])').value = '电动车楼道充电'; return true; })()`)
	bt.Click(t, ctx, "#checklist button[type=submit]")
	bt.Until(t, ctx, "the checklist filed", "document.querySelector('#toast').textContent.includes('日排查已提交')")
	bt.Shot(t, ctx, "phone-checklist")
	date := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	recs, err := f.b.s.Plugins.Records("qijiang", "511083", "checklists", "", 10)
	if err != nil || len(recs) != 1 || recs[0].Key != date+"."+grid || !strings.Contains(string(recs[0].Value), "电动车楼道充电") {
		t.Fatalf("the plugin's record: %+v %v", recs, err)
	}
}
