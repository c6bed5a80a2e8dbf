package webhooks

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/workcal"
)

// Payload is what a webhook of format json receives.
type Payload struct {
	ID      string    `json:"id"`    // <webhook>-<change seq>: the same on a redelivery
	Event   string    `json:"event"` // of model.WebhookEvents
	At      time.Time `json:"at"`
	Subject Subject   `json:"subject"`
	Change  Change    `json:"change"`
}

// Subject is the event a delivery is about, as it stands when delivered.
type Subject struct {
	ID           string       `json:"id"`
	Status       model.Status `json:"status"`
	Category     string       `json:"category"`
	Jurisdiction string       `json:"jurisdiction"`
	Grid         string       `json:"grid,omitempty"`
	Handler      string       `json:"handler,omitempty"`
	Deadline     time.Time    `json:"deadline"`
	Supervised   int          `json:"supervised,omitempty"`
	Overdue      bool         `json:"overdue,omitempty"`
	Summary      string       `json:"summary"` // the description's start
}

// Change is the change that caused a delivery.
type Change struct {
	Seq     uint64 `json:"seq"`
	Command string `json:"command"`
	Action  string `json:"action"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
}

// hookNames are the Chinese names of what a webhook is told of.
var hookNames = map[string]string{model.HookOverdue: "超期", model.HookSupervised: "督办", model.HookAssigned: "派遣",
	model.HookEscalated: "上报上级", model.HookReturned: "退回", model.HookVisitOverdue: "走访逾期"}

// summary keeps a description's first 60 characters: a work group needs
// the gist, and personal details stay in the system.
func summary(s string) string {
	if utf8.RuneCountInString(s) <= 60 {
		return s
	}
	return string([]rune(s)[:60]) + "…"
}

func subjectOf(ev *model.Event) Subject {
	return Subject{ID: ev.ID, Status: ev.Status, Category: ev.Category, Jurisdiction: ev.Jurisdiction, Grid: ev.Grid, Handler: ev.Handler,
		Deadline: ev.Deadline.In(workcal.CST), Supervised: ev.Supervised, Overdue: ev.Overdue, Summary: summary(ev.Description)}
}

// markdown is the message a 企业微信 or 钉钉 group reads.
func markdown(hook string, s Subject, category string) (title, text string) {
	title = fmt.Sprintf("【%s】事件 %s", hookNames[hook], s.ID)
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n", title)
	fmt.Fprintf(&b, "> 类别：%s\n> 状态：%s\n> 辖区：%s", category, model.Label(model.StatusLabels, s.Status), s.Jurisdiction)
	if s.Grid != "" {
		fmt.Fprintf(&b, "　网格：%s", s.Grid)
	}
	b.WriteString("\n")
	if s.Handler != "" {
		fmt.Fprintf(&b, "> 处置单位：%s\n", strings.TrimPrefix(strings.TrimPrefix(s.Handler, "dept:"), "token:"))
	}
	if !s.Deadline.IsZero() {
		fmt.Fprintf(&b, "> 办结时限：%s\n", s.Deadline.Format("2006-01-02 15:04"))
	}
	if s.Supervised > 0 {
		fmt.Fprintf(&b, "> 督办：%d 次\n", s.Supervised)
	}
	fmt.Fprintf(&b, "\n%s", s.Summary)
	return title, b.String()
}

// body renders a delivery in the webhook's format.
func body(h *model.Webhook, p Payload, category string) ([]byte, error) {
	switch h.Format {
	case model.FormatWeCom:
		_, text := markdown(p.Event, p.Subject, category)
		return json.Marshal(map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": text}})
	case model.FormatDingTalk:
		title, text := markdown(p.Event, p.Subject, category)
		return json.Marshal(map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": title, "text": text}})
	}
	return json.Marshal(p)
}
