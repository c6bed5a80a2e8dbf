package model

import (
	"fmt"
	"slices"
	"time"

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

// DateField parses a YYYY-MM-DD date, naming field when it is not one.
func DateField(field, v string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return d, errs.Invalid(field, "date", "%s must be a YYYY-MM-DD date", field)
	}
	return d, nil
}

// Check enforces each category's required fields.
func (d *SpecialDetails) Check(category string) error {
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
		s, err := DateField(f+"term_start", d.TermStart)
		if err != nil {
			return err
		}
		e, err := DateField(f+"term_end", d.TermEnd)
		if err != nil {
			return err
		}
		if !e.After(s) {
			return errs.Invalid(f+"term_end", "order", "term_end must be after term_start")
		}
	case SpecialReleased:
		if _, err := DateField(f+"release_date", d.ReleaseDate); err != nil {
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

// Validate requires an interval for every category and level, 1..366 days.
func (p *VisitPolicy) Validate() error {
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

// RevealedVisit is a visit with its note in the clear, for the roles that
// may reveal (audited).
type RevealedVisit struct {
	Person  string    `json:"person"`
	Seq     int       `json:"seq"`
	At      time.Time `json:"at"`
	Visitor string    `json:"visitor"`
	Method  string    `json:"method"`
	Found   bool      `json:"found"`
	Note    string    `json:"note,omitempty"`
}

// SpecialInput sets a special-population record.
type SpecialInput struct {
	Category string         `json:"category"`
	Level    int            `json:"level"`
	Details  SpecialDetails `json:"details"`
	Team     []string       `json:"team,omitempty"`
	Since    time.Time      `json:"since"`
}

// VisitInput records a visit.
type VisitInput struct {
	At      time.Time `json:"at"`
	Visitor string    `json:"visitor"`
	Method  string    `json:"method"`
	Found   bool      `json:"found"`
	Note    string    `json:"note,omitempty"` // sealed: visit notes describe the person
}
