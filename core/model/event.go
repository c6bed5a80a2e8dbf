package model

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Status is an event's state.
type Status string

// Event states (DESIGN.md).
const (
	StatusReported   Status = "reported"    // 已上报
	StatusAccepted   Status = "accepted"    // 已受理
	StatusRejected   Status = "rejected"    // 不予受理 (final)
	StatusDispatched Status = "dispatched"  // 已派遣
	StatusInProgress Status = "in_progress" // 处置中
	StatusResolved   Status = "resolved"    // 已处置
	StatusClosed     Status = "closed"      // 已结案
	StatusSuspended  Status = "suspended"   // 挂账
	StatusEscalated  Status = "escalated"   // 已上报上级
	StatusMerged     Status = "merged"      // 已合并 (final)
)

// Statuses lists every state; its order fixes each status's counter slot.
var Statuses = []Status{StatusReported, StatusAccepted, StatusRejected, StatusDispatched, StatusInProgress,
	StatusResolved, StatusClosed, StatusSuspended, StatusEscalated, StatusMerged}

// ValidStatus reports whether s is one of Statuses.
func ValidStatus(s Status) bool { return slices.Contains(Statuses, s) }

// active and open are the states of Active and Open; the transition table
// names them as the states several actions may be taken from.
var (
	active = []Status{StatusReported, StatusAccepted, StatusDispatched, StatusInProgress, StatusResolved}
	open   = append(slices.Clone(active), StatusSuspended)
)

// Active states are open and running against the clock.
func (s Status) Active() bool { return slices.Contains(active, s) }

// Open states are active or suspended.
func (s Status) Open() bool { return slices.Contains(open, s) }

// Event sources.
var Sources = []string{"grid_worker", "resident", "hotline_12345", "video", "superior", "plugin", "system"}

// Point is a WGS-84 longitude/latitude.
type Point struct {
	Lng float64 `json:"lng"`
	Lat float64 `json:"lat"`
}

// Event is one 事件 as it stands now; its history is in the timeline.
type Event struct {
	ID             string `json:"id"` // human-readable number, e.g. 500110001-20261124-000123
	Status         Status `json:"status"`
	Prior          Status `json:"prior,omitempty"` // state to resume to from suspended
	Source         string `json:"source"`
	Category       string `json:"category"`
	Urgency        string `json:"urgency"`
	Location       *Point `json:"location,omitempty"`
	Grid           string `json:"grid,omitempty"`
	Jurisdiction   string `json:"jurisdiction"`       // the deepest known division
	Reporter       string `json:"reporter,omitempty"` // masked; the name as given is ReporterSealed
	ReporterSealed string `json:"-"`
	// The reporter's phone, masked (138****5678) and sealed (opened for the
	// 回访 call by roles that may reveal, audited), and when they prefer to
	// be called.
	PhoneMasked  string    `json:"reporter_phone,omitempty"`
	PhoneSealed  string    `json:"-"`
	EmailMasked  string    `json:"reporter_email,omitempty"`
	EmailSealed  string    `json:"-"`
	ContactTime  string    `json:"reporter_contact_time,omitempty"`
	Description  string    `json:"description"`
	Attachments  []string  `json:"attachments,omitempty"`
	ReportedAt   time.Time `json:"reported_at"`
	ReportedBy   string    `json:"reported_by"` // the actor who reported it
	AcceptBy     time.Time `json:"accept_by"`
	Deadline     time.Time `json:"deadline"`
	AcceptedAt   time.Time `json:"accepted_at,omitzero"`
	Handler      string    `json:"handler,omitempty"`
	Supervised   int       `json:"supervised,omitempty"`   // times supervised (督办)
	Origin       string    `json:"origin,omitempty"`       // the jurisdiction it was escalated or dispatched from
	EscalatedTo  string    `json:"escalated_to,omitempty"` // the tier above it was handed to
	Priority     int       `json:"priority,omitempty"`
	Overdue      bool      `json:"overdue,omitempty"`
	SuspendedAt  time.Time `json:"suspended_at,omitzero"`
	MergedInto   string    `json:"merged_into,omitempty"`
	Merged       []string  `json:"merged,omitempty"` // events merged into this one
	Satisfaction string    `json:"satisfaction,omitempty"`
	ClosedAt     time.Time `json:"closed_at,omitzero"`
	Period       string    `json:"period"` // YYYYMM of the report, China time
	Rev          int       `json:"rev"`    // number of timeline entries
	// Ext holds extension fields: what plugins add (their enrichments, by
	// their own names) and optional fields added after the record format.
	// Values are JSON.
	Ext map[string]json.RawMessage `json:"ext,omitempty"`
}

// TimelineEntry is one action in an event's history.
type TimelineEntry struct {
	Rev    int               `json:"rev"`
	At     time.Time         `json:"at"`
	Actor  string            `json:"actor"`
	Action string            `json:"action"`
	From   Status            `json:"from,omitempty"`
	To     Status            `json:"to"`
	Note   string            `json:"note,omitempty"`
	Data   map[string]string `json:"data,omitempty"`
}

// Report is the input to report an event. Category and Description are
// required, and so is a Location, a Grid or a Jurisdiction.
type Report struct {
	Category     string `json:"category"`
	Urgency      string `json:"urgency,omitempty"` // default normal
	Source       string `json:"source,omitempty"`  // default grid_worker
	Description  string `json:"description"`
	Location     *Point `json:"location,omitempty"`
	Grid         string `json:"grid,omitempty"`
	Jurisdiction string `json:"jurisdiction,omitempty"`
	// Reporter is the reporter's name as a caller gives it: the service
	// seals it into ReporterSealed and keeps only its mask here, as with
	// Phone.
	Reporter       string   `json:"reporter,omitempty"`
	ReporterSealed string   `json:"-"`
	Attachments    []string `json:"attachments,omitempty"`
	// Phone is the reporter's number for the 回访 call, in the clear as a
	// caller gives it: the service seals it and clears it before the
	// report is proposed, so it is never in a command.
	Phone string `json:"reporter_phone,omitempty"`
	// ContactTime is when the reporter prefers to be called, in words.
	ContactTime string `json:"reporter_contact_time,omitempty"`
	// PhoneSealed and PhoneMasked are what the service made of Phone.
	PhoneSealed string `json:"-"`
	PhoneMasked string `json:"-"`
	// Email is the reporter's address, in the clear as given; sealed and
	// masked like Phone.
	Email       string `json:"reporter_email,omitempty"`
	EmailSealed string `json:"-"`
	EmailMasked string `json:"-"`
	// Ext are extension fields for the event (see Event.Ext): at most
	// MaxExt, named like ids, each a JSON value of at most MaxExtValue bytes.
	Ext map[string]json.RawMessage `json:"ext,omitempty"`
}

// Action is the input to act on an event; which fields count depends on Action.
type Action struct {
	Action       string     `json:"action"`
	Note         string     `json:"note,omitempty"`
	Handler      string     `json:"handler,omitempty"`      // dispatch
	Deadline     *time.Time `json:"deadline,omitempty"`     // dispatch (optional), extend
	Reason       string     `json:"reason,omitempty"`       // return, reject, extend, suspend
	Passed       *bool      `json:"passed,omitempty"`       // verify
	Satisfaction string     `json:"satisfaction,omitempty"` // rate
	Into         string     `json:"into,omitempty"`         // merge
}

// MaxText bounds a description or note, in bytes.
const MaxText = 4000

// MaxDescription bounds a description, in characters (Open311's 4,000;
// MaxText, in bytes, is what commands of rule levels before 2 were held to,
// and Check keeps it for them).
const MaxDescription = 4000

// CheckInput applies the input rules a report is proposed under: Check's,
// with the description bounded in characters, not bytes.
func (r *Report) CheckInput() error {
	if n := utf8.RuneCountInString(r.Description); n > MaxDescription || !utf8.ValidString(r.Description) {
		return errs.Invalid("description", "length", "description is longer than %d characters", MaxDescription)
	}
	d := r.Description
	if d != "" {
		r.Description = "x" // the byte bound is Check's, for old commands only
	}
	err := r.Check()
	r.Description = d
	return err
}

// Check applies the input rules to a report and fills its defaults.
func (r *Report) Check() error {
	if r.Urgency == "" {
		r.Urgency = UrgencyNormal
	}
	if r.Source == "" {
		r.Source = "grid_worker"
	}
	switch {
	case r.Category == "":
		return errs.Invalid("category", "required", "category is required")
	case !slices.Contains(Urgencies, r.Urgency):
		return errs.Invalid("urgency", "enum", "urgency must be one of %v", Urgencies)
	case !slices.Contains(Sources, r.Source):
		return errs.Invalid("source", "enum", "source must be one of %v", Sources)
	case r.Description == "":
		return errs.Invalid("description", "required", "description is required")
	case len(r.Description) > MaxText:
		return errs.Invalid("description", "length", "description is longer than %d bytes", MaxText)
	case len(r.Reporter) > 200:
		return errs.Invalid("reporter", "length", "reporter is longer than 200 bytes")
	case len(r.Attachments) > 20:
		return errs.Invalid("attachments", "length", "at most 20 attachments")
	case r.Location == nil && r.Grid == "" && r.Jurisdiction == "":
		return errs.Invalid("location", "required", "give a location, a grid or a jurisdiction")
	}
	if err := CheckExt(r.Ext); err != nil {
		return err
	}
	for i, a := range r.Attachments {
		if a == "" || len(a) > 500 {
			return errs.Invalid(fmt.Sprintf("attachments[%d]", i), "format", "attachment reference must be 1..500 bytes")
		}
	}
	if r.Location != nil {
		return CheckLngLat(r.Location.Lng, r.Location.Lat)
	}
	return nil
}

// Bounds of an extension map.
const (
	MaxExt      = 32
	MaxExtValue = 4096
)

// CheckExt applies the input rules of an extension map: at most MaxExt
// fields, each named like an id and holding one JSON value of at most
// MaxExtValue bytes.
func CheckExt(m map[string]json.RawMessage) error {
	if len(m) > MaxExt {
		return errs.Invalid("ext", "length", "at most %d extension fields", MaxExt)
	}
	for k, v := range m {
		if err := CheckID("ext", k); err != nil {
			return errs.Invalid("ext", "format", "extension field %q: a name of 1..64 letters, digits and - _ . :", k)
		}
		if len(v) == 0 || len(v) > MaxExtValue || !json.Valid(v) {
			return errs.Invalid("ext."+k, "json", "extension field %s must be one JSON value of at most %d bytes", k, MaxExtValue)
		}
	}
	return nil
}

// Handler identities: who an event is dispatched to — a department, a
// person by their token, or a child jurisdiction by its division code
// (交办 down the federation).
const (
	handlerDept  = "dept:"
	handlerToken = "token:"
)

// DeptHandler is the handler identity of a department (城管, 住建, …).
func DeptHandler(dept string) string { return handlerDept + dept }

// TokenHandler is the handler identity of the person holding a token.
func TokenHandler(id string) string { return handlerToken + id }

// HandlerIdentity reports whether handler is already an identity: a
// department's, a token's, or a division code.
func HandlerIdentity(handler string) bool {
	if strings.HasPrefix(handler, handlerDept) || strings.HasPrefix(handler, handlerToken) {
		return true
	}
	return handler != "" && strings.Trim(handler, "0123456789") == ""
}

// MaxContactTime bounds a reporter's preferred contact time, in characters.
const MaxContactTime = 50

// NormalizePhone checks a phone number (a mobile or landline, with an
// optional +86 and spaces or dashes) and returns its digits.
func NormalizePhone(phone string) (string, error) {
	d := strings.TrimPrefix(strings.NewReplacer(" ", "", "-", "").Replace(phone), "+86")
	if len(d) < 7 || len(d) > 15 || strings.Trim(d, "0123456789") != "" {
		return "", errs.Invalid("reporter_phone", "format", "a phone number is 7..15 digits (an optional +86, spaces and dashes aside)")
	}
	return d, nil
}

// MaskPhone keeps a mobile number's first three and last four digits
// (138****5678), and a shorter number's last two.
func MaskPhone(digits string) string {
	if len(digits) >= 11 {
		return digits[:3] + strings.Repeat("*", len(digits)-7) + digits[len(digits)-4:]
	}
	return strings.Repeat("*", len(digits)-2) + digits[len(digits)-2:]
}

// Contact is an event reporter's phone and email in the clear, for the
// 回访 call.
type Contact struct {
	Event       string `json:"event"`
	Reporter    string `json:"reporter,omitempty"`
	Phone       string `json:"reporter_phone,omitempty"`
	Email       string `json:"reporter_email,omitempty"`
	ContactTime string `json:"reporter_contact_time,omitempty"`
}

// MaxEmail bounds an email address, in bytes (RFC 5321).
const MaxEmail = 254

// MaskEmail keeps an address's first character and its domain:
// zhang@example.com → z****@example.com.
func MaskEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return "***"
	}
	return addr[:1] + strings.Repeat("*", max(3, at-1)) + addr[at:]
}
