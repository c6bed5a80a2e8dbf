package core

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Special-population categories (GB/T 31000).
const (
	SpecialCorrection = "community_correction" // 社区矫正对象
	SpecialReleased   = "released_prisoner"    // 刑满释放人员
	SpecialDrug       = "drug_user"            // 吸毒人员
	SpecialMental     = "severe_mental"        // 严重精神障碍患者
	SpecialYouth      = "key_youth"            // 重点青少年
	SpecialHIV        = "hiv_risk"             // 艾滋病危险人员
)

// SpecialCategories lists the six categories in order.
var SpecialCategories = []string{SpecialCorrection, SpecialReleased, SpecialDrug, SpecialMental, SpecialYouth, SpecialHIV}

// Contact statuses of a special-population subject.
const (
	ContactNormal       = "normal"
	ContactLost         = "lost_contact"   // 失联
	ContactOutOfControl = "out_of_control" // 脱管
)

// Special is a special-population record. Its category fields are sealed;
// only the category, attention level and visit schedule are in the clear,
// because the visit policy and the counters need them.
type Special struct {
	Category      string    `json:"category"`
	Level         int       `json:"level"` // attention level 1 (一般) .. 3 (高度关注)
	DetailsSealed string    `json:"details_sealed"`
	Team          []string  `json:"team,omitempty"` // support team (帮扶小组) staff
	Since         time.Time `json:"since"`
	Contact       string    `json:"contact"`
	LastVisit     time.Time `json:"last_visit,omitzero"`
	NextDue       time.Time `json:"next_due"`
	AlertedFor    time.Time `json:"alerted_for,omitzero"` // the due date an overdue alert was opened for
	Visits        int       `json:"visits"`
}

// SpecialDetails are the category fields, sealed before they enter a command.
type SpecialDetails struct {
	CorrectionType string `json:"correction_type,omitempty"` // control, probation, parole, medical_parole (管制/缓刑/假释/暂予监外执行)
	TermStart      string `json:"term_start,omitempty"`      // 矫正期限
	TermEnd        string `json:"term_end,omitempty"`
	ReleaseDate    string `json:"release_date,omitempty"`
	Offense        string `json:"offense,omitempty"`
	DrugType       string `json:"drug_type,omitempty"`
	DrugStatus     string `json:"drug_status,omitempty"` // community_detox, community_rehab, voluntary, abstinent
	Diagnosis      string `json:"diagnosis,omitempty"`
	RiskLevel      *int   `json:"risk_level,omitempty"` // 危险性评估等级 0–5
	Guardian       string `json:"guardian,omitempty"`   // 监护人
	GuardianPhone  string `json:"guardian_phone,omitempty"`
	YouthType      string `json:"youth_type,omitempty"` // idle, runaway, misconduct, left_behind_child
	School         string `json:"school,omitempty"`
	RiskType       string `json:"risk_type,omitempty"`
	Notes          string `json:"notes,omitempty"`
}

func dateField(field, v string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return d, errs.Invalid(field, "date", "%s must be a YYYY-MM-DD date", field)
	}
	return d, nil
}

// check enforces each category's required fields.
func (d *SpecialDetails) check(category string) error {
	f := "details."
	req := func(name, v string) error {
		if v == "" {
			return errs.Invalid(f+name, "required", "%s is required for %s", name, category)
		}
		return nil
	}
	oneOf := func(name, v string, allowed ...string) error {
		if !slices.Contains(allowed, v) {
			return errs.Invalid(f+name, "enum", "%s must be one of %v", name, allowed)
		}
		return nil
	}
	switch category {
	case SpecialCorrection:
		if err := oneOf("correction_type", d.CorrectionType, "control", "probation", "parole", "medical_parole"); err != nil {
			return err
		}
		s, err := dateField(f+"term_start", d.TermStart)
		if err != nil {
			return err
		}
		e, err := dateField(f+"term_end", d.TermEnd)
		if err != nil {
			return err
		}
		if !e.After(s) {
			return errs.Invalid(f+"term_end", "order", "term_end must be after term_start")
		}
	case SpecialReleased:
		if _, err := dateField(f+"release_date", d.ReleaseDate); err != nil {
			return err
		}
	case SpecialDrug:
		if err := oneOf("drug_status", d.DrugStatus, "community_detox", "community_rehab", "voluntary", "abstinent"); err != nil {
			return err
		}
	case SpecialMental:
		if d.RiskLevel == nil || *d.RiskLevel < 0 || *d.RiskLevel > 5 {
			return errs.Invalid(f+"risk_level", "range", "risk_level (危险性评估等级) must be 0–5")
		}
		if err := req("guardian", d.Guardian); err != nil {
			return err
		}
	case SpecialYouth:
		if err := oneOf("youth_type", d.YouthType, "idle", "runaway", "misconduct", "left_behind_child"); err != nil {
			return err
		}
	case SpecialHIV:
		if err := req("risk_type", d.RiskType); err != nil {
			return err
		}
	default:
		return errs.Invalid("category", "enum", "category must be one of %v", SpecialCategories)
	}
	return nil
}

// VisitPolicy sets the days allowed between visits per category and level.
type VisitPolicy struct {
	Days map[string][3]int `json:"days"` // category → days for levels 1, 2, 3
}

// DefaultVisitPolicy follows common practice: closer attention, shorter gaps.
var DefaultVisitPolicy = VisitPolicy{Days: map[string][3]int{
	SpecialCorrection: {30, 14, 7},
	SpecialReleased:   {90, 30, 14},
	SpecialDrug:       {30, 14, 7},
	SpecialMental:     {90, 30, 14},
	SpecialYouth:      {60, 30, 14},
	SpecialHIV:        {90, 60, 30},
}}

func (p *VisitPolicy) validate() error {
	for _, c := range SpecialCategories {
		d, ok := p.Days[c]
		if !ok {
			return errs.Invalid("days."+c, "required", "policy for %s is missing", c)
		}
		for i, n := range d {
			if n < 1 || n > 366 {
				return errs.Invalid(fmt.Sprintf("days.%s[%d]", c, i), "range", "days must be 1..366")
			}
		}
	}
	for c := range p.Days {
		if !slices.Contains(SpecialCategories, c) {
			return errs.Invalid("days."+c, "enum", "unknown category %s", c)
		}
	}
	return nil
}

func (t *txn) visitPolicy() (*VisitPolicy, error) {
	if t.policy == nil {
		p := DefaultVisitPolicy
		if _, err := t.getRecord(bConfig, []byte("visit_policy"), &p); err != nil {
			return nil, err
		}
		t.policy = &p
	}
	return t.policy, nil
}

func init() {
	handle("person.special", 1, applyPersonSpecial)
	handle("person.visit", 1, applyVisit)
	handle("person.contact", 2, applyContact) // 2: the event does not name the contact status
	handle("person.visit_alerts", 1, applyVisitAlerts)
	handle("config.visit_policy", 1, func(t *txn, c *Command, p *VisitPolicy) (any, error) {
		if err := p.validate(); err != nil {
			return nil, err
		}
		t.policy = nil
		return nil, t.putRecord(bConfig, []byte("visit_policy"), p)
	})
}

// Visit is one 走访 record.
type Visit struct {
	Person     string    `json:"person"`
	Seq        int       `json:"seq"`
	At         time.Time `json:"at"`
	Visitor    string    `json:"visitor"`
	Method     string    `json:"method"` // home, phone, video, office
	Found      bool      `json:"found"`  // the subject was reached
	NoteSealed string    `json:"note_sealed,omitempty"`
}

func visitDueKey(p *Person) []byte {
	loc := string(personLocKey(p))
	return []byte(timeKey(p.Special.NextDue.Unix()) + loc)
}

type specialPayload struct {
	ID      string   `json:"id"`
	Special *Special `json:"special"` // nil removes the record
}

func applyPersonSpecial(t *txn, c *Command, sp *specialPayload) (any, error) {
	p, err := t.loadPerson(c, sp.ID)
	if err != nil {
		return nil, err
	}
	if p.Special != nil {
		if err := t.del(bVisitDue, visitDueKey(p)); err != nil {
			return nil, err
		}
	}
	s := sp.Special
	if s != nil {
		if !slices.Contains(SpecialCategories, s.Category) {
			return nil, errs.Invalid("category", "enum", "category must be one of %v", SpecialCategories)
		}
		if s.Level < 1 || s.Level > 3 {
			return nil, errs.Invalid("level", "range", "attention level must be 1..3")
		}
		if s.DetailsSealed == "" {
			return nil, errs.Invalid("details", "sealed", "details must be sealed")
		}
		if s.Since.IsZero() || s.Since.After(c.At) {
			return nil, errs.Invalid("since", "range", "since must be a past date")
		}
		pol, err := t.visitPolicy()
		if err != nil {
			return nil, err
		}
		if p.Special != nil {
			s.LastVisit, s.Visits, s.Contact, s.AlertedFor = p.Special.LastVisit, p.Special.Visits, p.Special.Contact, p.Special.AlertedFor
		} else {
			s.LastVisit, s.Visits, s.AlertedFor, s.Contact = time.Time{}, 0, time.Time{}, ContactNormal
		}
		base := s.Since
		if !s.LastVisit.IsZero() {
			base = s.LastVisit
		}
		s.NextDue = base.AddDate(0, 0, pol.Days[s.Category][s.Level-1]).UTC()
	}
	p.Special = s
	if s != nil {
		if err := t.put(bVisitDue, visitDueKey(p)); err != nil {
			return nil, err
		}
	}
	return p, t.putRecord(bPerson, []byte(p.ID), p)
}

func applyVisit(t *txn, c *Command, v *Visit) (any, error) {
	p, err := t.loadPerson(c, v.Person)
	if err != nil {
		return nil, err
	}
	if p.Special == nil {
		return nil, errs.Conflict("person", "not_special", "person %s has no special-population record", p.ID)
	}
	if v.At.IsZero() || v.At.After(c.At) {
		return nil, errs.Invalid("at", "range", "visit time must not be in the future")
	}
	if v.Visitor == "" {
		return nil, errs.Invalid("visitor", "required", "visitor is required")
	}
	if !slices.Contains([]string{"home", "phone", "video", "office"}, v.Method) {
		return nil, errs.Invalid("method", "enum", "method must be home, phone, video or office")
	}
	if err := t.del(bVisitDue, visitDueKey(p)); err != nil {
		return nil, err
	}
	s := p.Special
	s.Visits++
	v.Seq = s.Visits
	if v.At.After(s.LastVisit) {
		s.LastVisit = v.At.UTC()
		pol, err := t.visitPolicy()
		if err != nil {
			return nil, err
		}
		s.NextDue = s.LastVisit.AddDate(0, 0, pol.Days[s.Category][s.Level-1]).UTC()
	}
	if err := t.put(bVisitDue, visitDueKey(p)); err != nil {
		return nil, err
	}
	k := make([]byte, 0, len(p.ID)+9)
	k = append(append(append(k, p.ID...), '/'), u64(uint64(v.Seq))...)
	if err := t.putRecord(bVisit, k, v); err != nil {
		return nil, err
	}
	return v, t.putRecord(bPerson, []byte(p.ID), p)
}

type contactPayload struct {
	ID      string `json:"id"`
	Contact string `json:"contact"`
	Note    string `json:"note,omitempty"`
}

// applyContact marks 失联/脱管. Losing contact opens an event in the same
// transaction; the event names the record, never the person's details.
func applyContact(t *txn, c *Command, cp *contactPayload) (any, error) {
	if cp.Contact != ContactNormal && cp.Contact != ContactLost && cp.Contact != ContactOutOfControl {
		return nil, errs.Invalid("contact", "enum", "contact must be normal, lost_contact or out_of_control")
	}
	p, err := t.loadPerson(c, cp.ID)
	if err != nil {
		return nil, err
	}
	if p.Special == nil {
		return nil, errs.Conflict("id", "not_special", "person %s has no special-population record", p.ID)
	}
	if p.Special.Contact == cp.Contact {
		return nil, errs.Conflict("contact", "unchanged", "contact is already %s", cp.Contact)
	}
	p.Special.Contact = cp.Contact
	var opened *Event
	if cp.Contact != ContactNormal {
		// Since version 2 the event, which readers of events without sight
		// of special-population records see, does not say which it is.
		desc := fmt.Sprintf("特殊人群预警：人员编号 %s，请按权限查看人员记录", p.ID)
		if c.Version < 2 {
			label := map[string]string{ContactLost: "失联", ContactOutOfControl: "脱管"}[cp.Contact]
			desc = fmt.Sprintf("特殊人群%s预警：人员编号 %s", label, p.ID)
		}
		opened, err = t.reportEvent(c, &Report{Category: "special_population", Urgency: UrgencyUrgent, Source: "system",
			Description: desc, Jurisdiction: p.Jurisdiction, Grid: p.Grid})
		if err != nil {
			return nil, err
		}
	}
	if err := t.putRecord(bPerson, []byte(p.ID), p); err != nil {
		return nil, err
	}
	return opened, nil
}

// applyVisitAlerts opens one event per overdue visit cycle.
func applyVisitAlerts(t *txn, c *Command, ap *idsPayload) (any, error) {
	ids, err := ap.ids(1000)
	if err != nil {
		return nil, err
	}
	opened := 0
	for _, id := range ids {
		p, err := t.loadPerson(c, id)
		if err != nil {
			return nil, err
		}
		s := p.Special
		if s == nil || !c.At.After(s.NextDue) || s.AlertedFor.Equal(s.NextDue) {
			continue // visited meanwhile, or already alerted for this cycle
		}
		if _, err := t.reportEvent(c, &Report{Category: "special_population", Urgency: UrgencyNormal, Source: "system",
			Description:  fmt.Sprintf("特殊人群走访逾期：人员编号 %s，应于 %s 前走访", p.ID, s.NextDue.Format(time.DateOnly)),
			Jurisdiction: p.Jurisdiction, Grid: p.Grid}); err != nil {
			return nil, err
		}
		s.AlertedFor = s.NextDue
		if err := t.putRecord(bPerson, []byte(p.ID), p); err != nil {
			return nil, err
		}
		opened++
	}
	return opened, nil
}

// SpecialInput sets a special-population record.
type SpecialInput struct {
	Category string         `json:"category"`
	Level    int            `json:"level"`
	Details  SpecialDetails `json:"details"`
	Team     []string       `json:"team,omitempty"`
	Since    time.Time      `json:"since"`
}

// SetSpecial creates or replaces a person's special-population record.
func (pp *People) SetSpecial(ctx context.Context, id string, in SpecialInput) (*Person, error) {
	if !slices.Contains(SpecialCategories, in.Category) {
		return nil, errs.Invalid("category", "enum", "category must be one of %v", SpecialCategories)
	}
	if in.Level < 1 || in.Level > 3 {
		return nil, errs.Invalid("level", "range", "attention level must be 1..3")
	}
	if err := in.Details.check(in.Category); err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(in.Details)
	sealed, err := pp.s.keyring().Seal(raw, "person/"+id+"/special")
	if err != nil {
		return nil, err
	}
	s := &Special{Category: in.Category, Level: in.Level, DetailsSealed: sealed, Team: in.Team, Since: in.Since.UTC()}
	return applyAs[*Person](ctx, pp.s, "person.special", "", specialPayload{ID: id, Special: s})
}

// VisitInput records a visit.
type VisitInput struct {
	At      time.Time `json:"at"`
	Visitor string    `json:"visitor"`
	Method  string    `json:"method"`
	Found   bool      `json:"found"`
	Note    string    `json:"note,omitempty"` // sealed: visit notes describe the person
}

// RecordVisit records a 走访 and moves the next due date.
func (pp *People) RecordVisit(ctx context.Context, id string, in VisitInput) (*Visit, error) {
	v := Visit{Person: id, At: in.At.UTC(), Visitor: in.Visitor, Method: in.Method, Found: in.Found}
	if in.Note != "" {
		sealed, err := pp.s.keyring().Seal([]byte(in.Note), "person/"+id+"/visit")
		if err != nil {
			return nil, err
		}
		v.NoteSealed = sealed
	}
	return applyAs[*Visit](ctx, pp.s, "person.visit", "", v)
}

// MarkContact sets normal, lost_contact (失联) or out_of_control (脱管). Losing
// contact opens an event, which is returned.
func (pp *People) MarkContact(ctx context.Context, id, contact, note string) (*Event, error) {
	return applyAs[*Event](ctx, pp.s, "person.contact", "", contactPayload{ID: id, Contact: contact, Note: note})
}

// SetVisitPolicy replaces the visit intervals.
func (pp *People) SetVisitPolicy(ctx context.Context, p VisitPolicy) error {
	if err := p.validate(); err != nil {
		return err
	}
	_, err := pp.s.apply(ctx, "config.visit_policy", "", p)
	return err
}

// Visits lists a person's visits, oldest first, a page at a time: after is
// the previous page's next ("" for the first), next is "" on the last page,
// and limit is 1..500 (else 100). A cursor from another person's visits is
// refused (field cursor).
func (pp *People) Visits(id, after string, limit int) (visits []Visit, next string, err error) {
	pre := []byte(id + "/")
	return cursorPage(pp.s.engine, pre, after, func(tx *bbolt.Tx, from []byte) ([]Visit, []byte, error) {
		return pageValues[Visit](tx, bVisit, pre, from, pageLimit(limit, 100, 500), func(k []byte) bool { return len(k) == len(pre)+8 }, nil)
	})
}

// DueVisits lists special-population subjects under a jurisdiction whose next
// visit is due before the given time (pass now for the overdue ones).
func (pp *People) DueVisits(under string, before time.Time, limit int) ([]*Person, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	pre, err := pp.s.scope("under", under)
	if err != nil {
		return nil, err
	}
	end := []byte(timeKey(before.Unix()))
	var out []*Person
	err = pp.s.engine.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bVisitDue).Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k[:8], end) < 0 && len(out) < limit; k, _ = c.Next() {
			if !bytes.HasPrefix(k[8:], []byte(pre)) {
				continue
			}
			var p Person
			if err := json.Unmarshal(tx.Bucket(bPerson).Get(k[bytes.LastIndexByte(k, '/')+1:]), &p); err != nil {
				return err
			}
			out = append(out, &p)
		}
		return nil
	})
	return out, err
}

// SweepVisits opens an event for each subject whose visit is overdue at now
// and not yet alerted for this cycle, returning how many it opened.
func (pp *People) SweepVisits(ctx context.Context, now time.Time) (int, error) {
	due, err := pp.DueVisits("", now, 1000)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	ids := make([]string, 0, len(due))
	for _, p := range due {
		if !p.Special.AlertedFor.Equal(p.Special.NextDue) {
			ids = append(ids, p.ID)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return applyAs[int](ctx, pp.s, "person.visit_alerts", "", idsPayload{IDs: ids})
}
