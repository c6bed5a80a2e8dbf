package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// receiver records what it is sent; fail makes its first answers 500.
type receiver struct {
	mu    sync.Mutex
	got   []*http.Request
	body  [][]byte
	fail  int
	reply string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.fail > 0 {
		rc.fail--
		w.WriteHeader(500)
		return
	}
	rc.got = append(rc.got, r)
	rc.body = append(rc.body, b)
	io.WriteString(w, rc.reply)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.body)
}

type env struct {
	st  *core.Store
	ctx context.Context
}

func newEnv(t *testing.T) *env {
	st, err := core.Open(t.TempDir(), core.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := core.WithActor(context.Background(), "test")
	if _, err := st.Jurisdictions.LoadCounty(ctx, "511083", 2); err != nil {
		t.Fatal(err)
	}
	return &env{st: st, ctx: ctx}
}

// run starts a dispatcher with quick retries; stop waits for it to end.
func (e *env) run(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	d := New(Options{Store: e.st, Backoff: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}, SyncEvery: 20 * time.Millisecond, AckEvery: 50 * time.Millisecond})
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	return func() { cancel(); <-done }
}

func (e *env) flow(t *testing.T, grid string, actions ...model.Action) *model.Event {
	t.Helper()
	ev, err := e.st.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "楼道堆物，影响通行", Grid: grid})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range actions {
		if ev, err = e.st.Events.Act(e.ctx, ev.ID, a); err != nil {
			t.Fatalf("%s: %v", a.Action, err)
		}
	}
	return ev
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSignedDeliveriesRetriedLoggedAndResumed(t *testing.T) {
	e := newEnv(t)
	rc := &receiver{fail: 2} // the first delivery needs two retries
	srv := httptest.NewServer(rc)
	defer srv.Close()
	h, secret, err := e.st.Webhooks.Put(e.ctx, core.WebhookSpec{Name: "A 镇系统", URL: srv.URL, Events: []string{model.HookAssigned, model.HookReturned},
		Format: model.FormatJSON, Under: "511083001"})
	if err != nil || secret == "" {
		t.Fatalf("put: %v %q", err, secret)
	}
	stop := e.run(t)
	dispatch := []model.Action{{Action: "accept"}, {Action: "dispatch", Handler: "城管局"}}
	ev := e.flow(t, "511083001001001", dispatch...)
	e.flow(t, "511083002001001", dispatch...)                                   // township B: not this webhook's
	e.st.Events.Act(e.ctx, ev.ID, model.Action{Action: "supervise", Note: "快"}) // not subscribed
	eventually(t, "the assignment", func() bool { return rc.count() == 1 })
	r, b := rc.got[0], rc.body[0]
	if r.Header.Get(HeaderEvent) != model.HookAssigned || r.Header.Get(HeaderSignature) != Sign(secret, r.Header.Get(HeaderTimestamp), b) {
		t.Fatalf("headers %v", r.Header)
	}
	var p Payload
	if err := json.Unmarshal(b, &p); err != nil || p.Subject.ID != ev.ID || p.Subject.Handler != "dept:城管局" || !strings.HasSuffix(p.At.Format(time.RFC3339), "+08:00") {
		t.Fatalf("payload %s %v", b, err)
	}
	// The log (and the cursor) follow the answer by one command.
	eventually(t, "the delivery's log", func() bool {
		log, _, _ := e.st.Webhooks.Log(h.ID, "", 0)
		return len(log) == 1 && log[0].Status == model.Delivered && log[0].Attempts == 3
	})
	// A failover: this dispatcher stops, events go on, another takes over
	// from the replicated cursor: each delivered once.
	stop()
	e.st.Events.Act(e.ctx, ev.ID, model.Action{Action: "return", Reason: "不属于本部门"})
	ev2 := e.flow(t, "511083001001002", dispatch...)
	stop = e.run(t)
	defer stop()
	eventually(t, "the deliveries after the failover", func() bool { return rc.count() == 3 })
	time.Sleep(100 * time.Millisecond)
	if rc.count() != 3 {
		t.Fatalf("%d deliveries, want 3", rc.count())
	}
	var last Payload
	json.Unmarshal(rc.body[2], &last)
	if last.Subject.ID != ev2.ID || last.Event != model.HookAssigned {
		t.Fatalf("last: %+v", last)
	}
}

func TestRobotsAndGivingUp(t *testing.T) {
	e := newEnv(t)
	wecom := &receiver{reply: `{"errcode":0,"errmsg":"ok"}`}
	ding := &receiver{reply: `{"errcode":0}`}
	broken := &receiver{fail: 1000}
	for _, s := range []*receiver{wecom, ding, broken} {
		srv := httptest.NewServer(s)
		defer srv.Close()
		format := map[*receiver]string{wecom: model.FormatWeCom, ding: model.FormatDingTalk, broken: model.FormatJSON}[s]
		spec := core.WebhookSpec{Name: format, URL: srv.URL + "/robot/send?access_token=x", Events: []string{model.HookAssigned}, Format: format, Under: "511083"}
		if s == ding {
			spec.Secret = "SECdingtalk"
		}
		if _, _, err := e.st.Webhooks.Put(e.ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	stop := e.run(t)
	defer stop()
	e.flow(t, "511083001001001", model.Action{Action: "accept"}, model.Action{Action: "dispatch", Handler: "城管局"})
	eventually(t, "the robots", func() bool { return wecom.count() == 1 && ding.count() == 1 })
	var msg struct {
		MsgType  string            `json:"msgtype"`
		Markdown map[string]string `json:"markdown"`
	}
	json.Unmarshal(wecom.body[0], &msg)
	if msg.MsgType != "markdown" || !strings.Contains(msg.Markdown["content"], "【派遣】") || !strings.Contains(msg.Markdown["content"], "处置单位：城管局") {
		t.Fatalf("wecom: %s", wecom.body[0])
	}
	q := ding.got[0].URL.Query()
	if q.Get("timestamp") == "" || q.Get("sign") == "" || q.Get("access_token") != "x" {
		t.Fatalf("dingtalk signing: %v", ding.got[0].URL)
	}
	// The broken receiver: given up after the retries, logged as failed.
	hooks, _ := e.st.Webhooks.List("")
	var brokenID string
	for _, h := range hooks {
		if h.Format == model.FormatJSON {
			brokenID = h.ID
		}
	}
	eventually(t, "the failed delivery's log", func() bool {
		log, _, _ := e.st.Webhooks.Log(brokenID, "", 0)
		return len(log) == 1 && log[0].Status == model.Failed && log[0].Attempts == 3 && log[0].Code == 500
	})
}

func TestBadWebhooksAreRefused(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		spec  core.WebhookSpec
		field string
	}{
		{core.WebhookSpec{Name: "x", URL: "javascript:alert(1)", Events: []string{"overdue"}, Format: "json", Under: "511083"}, "url"},
		{core.WebhookSpec{Name: "x", URL: "https://u:p@example.com", Events: []string{"overdue"}, Format: "json", Under: "511083"}, "url"},
		{core.WebhookSpec{Name: "x", URL: "https://example.com", Events: []string{"rained"}, Format: "json", Under: "511083"}, "events"},
		{core.WebhookSpec{Name: "x", URL: "https://example.com", Events: []string{"overdue"}, Format: "sms", Under: "511083"}, "format"},
		{core.WebhookSpec{Name: "x", URL: "https://example.com", Events: []string{"overdue"}, Format: "json", Under: "999999"}, "under"},
	} {
		if _, _, err := e.st.Webhooks.Put(e.ctx, c.spec); errs.Field(err) != c.field || !(errors.Is(err, errs.ErrInvalid) || errors.Is(err, errs.ErrNotFound)) {
			t.Errorf("%+v: %v, want a refusal naming %s", c.spec, err, c.field)
		}
	}
	if hooks, _ := e.st.Webhooks.List(""); len(hooks) != 0 {
		t.Fatalf("refused webhooks were kept: %v", hooks)
	}
}
