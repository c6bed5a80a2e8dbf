package model

import (
	"net/url"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Webhook notifies a URL of events a 综治中心 must act on: a township's
// work group in 企业微信 or 钉钉, or a system of its own.
type Webhook struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	URL    string   `json:"url"`
	Events []string `json:"events"` // of WebhookEvents
	Format string   `json:"format"` // of WebhookFormats
	// Under limits it to one jurisdiction's subtree.
	Under string `json:"under"`
	// SecretSealed signs deliveries (HMAC-SHA256; 钉钉's own signature
	// for its robots); sealed, shown in the clear once when issued.
	SecretSealed string    `json:"secret_sealed,omitempty"`
	Disabled     bool      `json:"disabled,omitempty"`
	CreatedBy    string    `json:"created_by,omitempty"`
	CreatedAt    time.Time `json:"created_at,omitzero"`
}

// What a webhook may be told of.
const (
	HookOverdue      = "overdue"       // 超期
	HookSupervised   = "supervised"    // 督办
	HookAssigned     = "assigned"      // 派遣
	HookEscalated    = "escalated"     // 上报上级
	HookReturned     = "returned"      // 退回
	HookVisitOverdue = "visit_overdue" // 特殊人群走访逾期
)

// WebhookEvents lists what a webhook may be told of.
var WebhookEvents = []string{HookOverdue, HookSupervised, HookAssigned, HookEscalated, HookReturned, HookVisitOverdue}

// Webhook payload shapes: ours (JSON, signed), and the group robots of
// 企业微信 and 钉钉 (markdown).
const (
	FormatJSON     = "json"
	FormatWeCom    = "wecom"
	FormatDingTalk = "dingtalk"
)

// WebhookFormats lists the payload shapes.
var WebhookFormats = []string{FormatJSON, FormatWeCom, FormatDingTalk}

// HookOf says what a change tells a webhook of, "" for nothing.
func HookOf(ch Change) string {
	if ch.Kind != ChangeEvent {
		return ""
	}
	switch {
	case ch.Command == "person.visit_alerts" && ch.Action == "report":
		return HookVisitOverdue
	case ch.Action == "overdue":
		return HookOverdue
	case ch.Action == "supervise":
		return HookSupervised
	case ch.Action == "dispatch":
		return HookAssigned
	case ch.Action == "escalate":
		return HookEscalated
	case ch.Action == "return":
		return HookReturned
	}
	return ""
}

// CheckWebhook checks a webhook's own fields.
func CheckWebhook(h *Webhook) error {
	if err := CheckID("id", h.ID); err != nil {
		return err
	}
	if h.Name == "" || utf8.RuneCountInString(h.Name) > 100 {
		return errs.Invalid("name", "required", "name the webhook in 1..100 characters")
	}
	u, err := url.Parse(h.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || len(h.URL) > 2000 {
		return errs.Invalid("url", "format", "url must be an http or https URL without credentials")
	}
	if len(h.Events) == 0 {
		return errs.Invalid("events", "required", "name what to be told of: %v", WebhookEvents)
	}
	for _, e := range h.Events {
		if !slices.Contains(WebhookEvents, e) {
			return errs.Invalid("events", "enum", "events are of %v", WebhookEvents)
		}
	}
	if !slices.Contains(WebhookFormats, h.Format) {
		return errs.Invalid("format", "enum", "format must be one of %v", WebhookFormats)
	}
	if h.Under == "" {
		return errs.Invalid("under", "required", "name the jurisdiction whose events it hears")
	}
	return nil
}

// Delivery is one change's delivery to a webhook, as its log keeps it.
type Delivery struct {
	Webhook  string    `json:"webhook"`
	Seq      uint64    `json:"seq"` // the change delivered
	Event    string    `json:"event"`
	Subject  string    `json:"subject"` // the event's number
	Status   string    `json:"status"`  // delivered, failed
	Attempts int       `json:"attempts"`
	Code     int       `json:"code,omitempty"` // the last HTTP status
	Error    string    `json:"error,omitempty"`
	At       time.Time `json:"at"`
}

// Delivery outcomes.
const (
	Delivered = "delivered"
	Failed    = "failed" // given up after the retries
)
