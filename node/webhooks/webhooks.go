// Package webhooks delivers the events a 综治中心 must act on — overdue,
// supervised (督办), assigned, escalated and returned events, and overdue
// visits — to the URLs the group's webhooks name: its own systems (JSON,
// signed with HMAC-SHA256 and a timestamp) or the group robots of 企业微信
// and 钉钉 (markdown). It runs on the leader only, follows the change feed
// with a replicated cursor per webhook, retries with backoff, and logs
// each delivery in the replicated state.
package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
	"github.com/fengqiao/fengqiao/core/workcal"
)

// Headers of a json delivery.
const (
	HeaderDelivery  = "X-Fengqiao-Delivery"  // <webhook>-<seq>, the same on a redelivery
	HeaderEvent     = "X-Fengqiao-Event"     // of model.WebhookEvents
	HeaderTimestamp = "X-Fengqiao-Timestamp" // Unix seconds
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256, under the
	// webhook's secret, of the timestamp, a dot and the body.
	HeaderSignature = "X-Fengqiao-Signature"
)

// Sign is the signature a receiver checks: HMAC-SHA256 of timestamp "."
// body under secret, as "sha256=<hex>".
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Options configure a Dispatcher.
type Options struct {
	Store  *core.Store
	Client *http.Client // default: 10 s timeout
	Logger *slog.Logger
	// Backoff is the wait before each retry; its length is how many
	// retries a delivery gets before it is logged failed.
	Backoff []time.Duration
	// SyncEvery is how often the webhook list is read again (default 5 s).
	SyncEvery time.Duration
	// AckEvery is how often the cursor moves past changes no webhook heard
	// (default 30 s), so a new leader does not scan them again.
	AckEvery time.Duration
}

// DefaultBackoff waits 1 s, 2 s, 4 s … up to a minute: eight attempts in
// about two minutes.
var DefaultBackoff = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute}

// Dispatcher delivers to every enabled webhook.
type Dispatcher struct{ o Options }

// New returns a dispatcher.
func New(o Options) *Dispatcher {
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Backoff == nil {
		o.Backoff = DefaultBackoff
	}
	if o.SyncEvery == 0 {
		o.SyncEvery = 5 * time.Second
	}
	if o.AckEvery == 0 {
		o.AckEvery = 30 * time.Second
	}
	return &Dispatcher{o: o}
}

// Run delivers until ctx ends (the node lost leadership, or stops): one
// worker per enabled webhook, started and stopped as the list changes.
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	type worker struct {
		stop context.CancelFunc
		hook model.Webhook
	}
	workers := map[string]worker{}
	defer func() {
		for _, w := range workers {
			w.stop()
		}
	}()
	t := time.NewTicker(d.o.SyncEvery)
	defer t.Stop()
	for {
		hooks, err := d.o.Store.Webhooks.List("")
		if err != nil {
			d.o.Logger.Warn("webhooks: list", "err", err)
		}
		want := map[string]model.Webhook{}
		for _, h := range hooks {
			if !h.Disabled {
				want[h.ID] = h
			}
		}
		for id, w := range workers {
			if h, ok := want[id]; !ok || !sameHook(h, w.hook) {
				w.stop()
				delete(workers, id)
			}
		}
		for id, h := range want {
			if _, ok := workers[id]; ok {
				continue
			}
			wctx, stop := context.WithCancel(ctx)
			workers[id] = worker{stop: stop, hook: h}
			wg.Add(1)
			go func() {
				defer wg.Done()
				d.follow(wctx, h)
			}()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func sameHook(a, b model.Webhook) bool {
	return a.URL == b.URL && a.Format == b.Format && a.Under == b.Under && a.SecretSealed == b.SecretSealed && slices.Equal(a.Events, b.Events)
}

// follow delivers one webhook's changes from its replicated cursor on.
func (d *Dispatcher) follow(ctx context.Context, h model.Webhook) {
	st := d.o.Store
	consumer := state.WebhookConsumer(h.ID)
	secret, err := st.Webhooks.Secret(&h)
	if err != nil {
		d.o.Logger.Error("webhooks: the secret does not open", "webhook", h.ID, "err", err)
		return
	}
	scanned, err := st.Changes.Cursor(consumer)
	if err != nil {
		return
	}
	acked, lastAck := scanned, time.Now()
	for ctx.Err() == nil {
		page, err := st.Changes.Since(scanned, 256, core.Viewer{})
		if errors.Is(err, errs.ErrConflict) {
			// Down longer than the feed keeps: what passed is lost to this
			// webhook; say so and go on from the oldest change held.
			if oldest, _, berr := st.Changes.Bounds(); berr == nil && oldest > 0 {
				d.o.Logger.Error("webhooks: changes were compacted before delivery", "webhook", h.ID, "from", scanned, "to", oldest-1)
				scanned = oldest - 1
				continue
			}
		}
		if err != nil {
			d.o.Logger.Warn("webhooks: the change feed", "webhook", h.ID, "err", err)
			sleep(ctx, time.Second)
			continue
		}
		for _, ch := range page.Changes {
			hook := model.HookOf(ch)
			if hook != "" && slices.Contains(h.Events, hook) && state.IsUnder(ch.Place, h.Under) {
				dl, ok := d.deliver(ctx, &h, secret, hook, ch)
				if !ok {
					return // leadership lost mid-delivery: the next leader sends it
				}
				if err := st.Webhooks.Delivered(ctx, dl); err != nil {
					d.o.Logger.Warn("webhooks: log a delivery", "webhook", h.ID, "err", err)
					return
				}
				acked = ch.Seq
			}
			scanned = ch.Seq
		}
		scanned = max(scanned, page.Next)
		if scanned > acked && time.Since(lastAck) > d.o.AckEvery {
			if _, err := st.Changes.Ack(ctx, consumer, scanned); err == nil {
				acked, lastAck = scanned, time.Now()
			}
		}
		if page.Next >= page.Last {
			wctx, cancel := context.WithTimeout(ctx, d.o.AckEvery)
			st.Changes.Wait(wctx, scanned)
			cancel()
		}
	}
}

// deliver sends one change, retrying by the backoff; ok is false when ctx
// ended first.
func (d *Dispatcher) deliver(ctx context.Context, h *model.Webhook, secret, hook string, ch model.Change) (model.Delivery, bool) {
	dl := model.Delivery{Webhook: h.ID, Seq: ch.Seq, Event: hook, Subject: ch.ID}
	ev, err := d.o.Store.Events.Get(ch.ID)
	if err != nil {
		dl.Status, dl.Error, dl.At = model.Failed, "the event is gone: "+err.Error(), time.Now()
		return dl, true
	}
	p := Payload{ID: h.ID + "-" + strconv.FormatUint(ch.Seq, 10), Event: hook, At: ch.At.In(workcal.CST), Subject: subjectOf(ev),
		Change: Change{Seq: ch.Seq, Command: ch.Command, Action: ch.Action, From: ch.From, To: ch.To}}
	category := ev.Category
	if cats, err := d.o.Store.Events.Categories(); err == nil {
		for _, c := range cats {
			if c.Code == ev.Category {
				category = c.Name
			}
		}
	}
	raw, err := body(h, p, category)
	if err != nil {
		dl.Status, dl.Error, dl.At = model.Failed, err.Error(), time.Now()
		return dl, true
	}
	for attempt := 0; ; attempt++ {
		dl.Attempts = attempt + 1
		dl.Code, err = d.post(ctx, h, secret, p, raw)
		if err == nil {
			dl.Status, dl.Error, dl.At = model.Delivered, "", time.Now()
			return dl, true
		}
		dl.Error = err.Error()
		if attempt == len(d.o.Backoff) {
			dl.Status, dl.At = model.Failed, time.Now()
			d.o.Logger.Warn("webhooks: given up", "webhook", h.ID, "seq", ch.Seq, "attempts", dl.Attempts, "err", err)
			return dl, true
		}
		if !sleep(ctx, d.o.Backoff[attempt]) {
			return dl, false
		}
	}
}

// post sends one attempt and reads the receiver's answer.
func (d *Dispatcher) post(ctx context.Context, h *model.Webhook, secret string, p Payload, raw []byte) (int, error) {
	target := h.URL
	if h.Format == model.FormatDingTalk && secret != "" {
		target = dingTalkSigned(target, secret, time.Now())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(raw))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "fengqiao-webhooks")
	if h.Format == model.FormatJSON {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set(HeaderDelivery, p.ID)
		req.Header.Set(HeaderEvent, p.Event)
		req.Header.Set(HeaderTimestamp, ts)
		if secret != "" {
			req.Header.Set(HeaderSignature, Sign(secret, ts, raw))
		}
	}
	resp, err := d.o.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the receiver answered %d", resp.StatusCode)
	}
	if h.Format != model.FormatJSON {
		// The robots answer 200 with an error code of their own.
		var r struct {
			ErrCode int    `json:"errcode"`
			ErrMsg  string `json:"errmsg"`
		}
		if json.Unmarshal(answer, &r) == nil && r.ErrCode != 0 {
			return resp.StatusCode, fmt.Errorf("the robot answered errcode %d: %s", r.ErrCode, r.ErrMsg)
		}
	}
	return resp.StatusCode, nil
}

// dingTalkSigned adds 钉钉's signature to a robot's URL: the time in
// milliseconds and the base64 HMAC-SHA256 of "timestamp\nsecret".
func dingTalkSigned(target, secret string, now time.Time) string {
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "\n" + secret))
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	q := u.Query()
	q.Set("timestamp", ts)
	q.Set("sign", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	u.RawQuery = q.Encode()
	return u.String()
}

// sleep waits d, or less if ctx ends; it reports whether it waited it all.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
