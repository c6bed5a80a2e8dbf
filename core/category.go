package core

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/workcal"
)

// Category is an event category: the national base list, plus those plugins add.
type Category struct {
	Code   string `json:"code"`            // stable identifier, e.g. "dispute"
	Number string `json:"number"`          // display number, e.g. "01"
	Name   string `json:"name"`            // 中文 name
	Minor  bool   `json:"minor,omitempty"` // may be settled on the spot (小事一格解决)
	Source string `json:"source"`          // "national" or the plugin that added it
}

// BaseCategories is the national base list Fengqiao ships.
var BaseCategories = []Category{
	{"dispute", "01", "矛盾纠纷", false, "national"},
	{"public_security", "02", "治安隐患", false, "national"},
	{"work_safety", "03", "安全生产", false, "national"},
	{"fire_safety", "04", "消防安全", false, "national"},
	{"food_drug", "05", "食品药品安全", false, "national"},
	{"sanitation", "06", "环境卫生", true, "national"},
	{"urban_management", "07", "城市管理", true, "national"},
	{"ecology", "08", "生态环境", false, "national"},
	{"special_population", "09", "特殊人群服务管理", false, "national"},
	{"social_services", "10", "民生服务", true, "national"},
	{"petition", "11", "信访诉求", false, "national"},
	{"public_health", "12", "公共卫生", false, "national"},
	{"emergency", "13", "自然灾害与应急", false, "national"},
	{"traffic", "14", "交通安全", false, "national"},
	{"facilities", "15", "公共设施", true, "national"},
	{"other", "99", "其他", false, "national"},
}

var baseByCode = func() map[string]Category {
	m := map[string]Category{}
	for _, c := range BaseCategories {
		m[c.Code] = c
	}
	return m
}()

// Urgency levels.
const (
	UrgencyNormal   = "normal"   // 一般
	UrgencyUrgent   = "urgent"   // 紧急
	UrgencyCritical = "critical" // 特急
)

var urgencies = []string{UrgencyNormal, UrgencyUrgent, UrgencyCritical}

// SLA is the time allowed, in working minutes, to accept and to resolve.
type SLA struct {
	AcceptMinutes  int `json:"accept_minutes"`
	ResolveMinutes int `json:"resolve_minutes"`
}

// SLAConfig holds deadlines per urgency, with per-category overrides.
type SLAConfig struct {
	Default     map[string]SLA            `json:"default"`
	PerCategory map[string]map[string]SLA `json:"per_category,omitempty"`
}

const workDay = 24 * 60

// DefaultSLA: 一般 accept in 1 working day, resolve in 5; 紧急 2 hours and 2
// days; 特急 30 minutes and 1 day.
var DefaultSLA = SLAConfig{Default: map[string]SLA{
	UrgencyNormal:   {AcceptMinutes: workDay, ResolveMinutes: 5 * workDay},
	UrgencyUrgent:   {AcceptMinutes: 120, ResolveMinutes: 2 * workDay},
	UrgencyCritical: {AcceptMinutes: 30, ResolveMinutes: workDay},
}}

func (c *SLAConfig) validate() error {
	check := func(f string, m map[string]SLA) error {
		for u, s := range m {
			if !contains(urgencies, u) {
				return errs.Invalid(f+"."+u, "enum", "urgency must be one of %v", urgencies)
			}
			if s.AcceptMinutes <= 0 || s.ResolveMinutes < s.AcceptMinutes || s.ResolveMinutes > 365*workDay {
				return errs.Invalid(f+"."+u, "range", "need 0 < accept ≤ resolve ≤ 365 working days")
			}
		}
		return nil
	}
	for _, u := range urgencies {
		if _, ok := c.Default[u]; !ok {
			return errs.Invalid("default."+u, "required", "default SLA for %s is missing", u)
		}
	}
	if err := check("default", c.Default); err != nil {
		return err
	}
	for cat, m := range c.PerCategory {
		if err := check("per_category."+cat, m); err != nil {
			return err
		}
	}
	return nil
}

func (c *SLAConfig) lookup(category, urgency string) SLA {
	if m, ok := c.PerCategory[category]; ok {
		if s, ok := m[urgency]; ok {
			return s
		}
	}
	return c.Default[urgency]
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func init() {
	handle("config.calendar", 1, func(t *txn, c *Command, cal *workcal.Calendar) (any, error) {
		if err := cal.Validate(); err != nil {
			return nil, err
		}
		cal.Normalize()
		t.cal = nil
		return nil, t.putRecord(bConfig, []byte("calendar"), cal)
	})
	handle("config.sla", 1, func(t *txn, c *Command, s *SLAConfig) (any, error) {
		if err := s.validate(); err != nil {
			return nil, err
		}
		t.sla = nil
		return nil, t.putRecord(bConfig, []byte("sla"), s)
	})
	handle("category.add", 1, func(t *txn, c *Command, cat *Category) (any, error) {
		if err := checkCategory(*cat); err != nil {
			return nil, err
		}
		if _, ok := baseByCode[cat.Code]; ok {
			return nil, errs.Conflict("code", "exists", "category %s is in the national list", cat.Code)
		}
		return cat, t.putRecord(bCategory, []byte(cat.Code), cat)
	})
}

func checkCategory(c Category) error {
	if err := checkID("code", c.Code); err != nil {
		return err
	}
	if c.Name == "" || len(c.Name) > 100 {
		return errs.Invalid("name", "required", "category name must be 1..100 bytes")
	}
	if c.Source == "" || c.Source == "national" {
		return errs.Invalid("source", "required", "an added category names its source (the plugin), not \"national\"")
	}
	return nil
}

func (t *txn) slaConfig() (*SLAConfig, error) {
	if t.sla == nil {
		s := DefaultSLA
		if _, err := t.getRecord(bConfig, []byte("sla"), &s); err != nil {
			return nil, err
		}
		t.sla = &s
	}
	return t.sla, nil
}

func (t *txn) category(code string) (Category, bool, error) {
	if c, ok := baseByCode[code]; ok {
		return c, true, nil
	}
	var c Category
	ok, err := t.getRecord(bCategory, []byte(code), &c)
	return c, ok, err
}

// SetCalendar replaces the working-day calendar used for deadlines.
func (ev *Events) SetCalendar(ctx context.Context, cal workcal.Calendar) error {
	if err := cal.Validate(); err != nil {
		return err
	}
	_, err := ev.s.apply(ctx, "config.calendar", "", cal)
	return err
}

// SetSLA replaces the deadline table.
func (ev *Events) SetSLA(ctx context.Context, c SLAConfig) error {
	if err := c.validate(); err != nil {
		return err
	}
	_, err := ev.s.apply(ctx, "config.sla", "", c)
	return err
}

// AddCategory adds a category (plugins use this).
func (ev *Events) AddCategory(ctx context.Context, c Category) (*Category, error) {
	if err := checkCategory(c); err != nil {
		return nil, err
	}
	return applyAs[*Category](ctx, ev.s, "category.add", "", c)
}

// Categories lists the national base list followed by added categories.
func (ev *Events) Categories() ([]Category, error) {
	out := append([]Category(nil), BaseCategories...)
	var added []Category
	err := ev.s.engine.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bCategory).ForEach(func(_, v []byte) error {
			var c Category
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			added = append(added, c)
			return nil
		})
	})
	sort.Slice(added, func(i, j int) bool { return strings.Compare(added[i].Code, added[j].Code) < 0 })
	return append(out, added...), err
}

// deadlines computes the accept-by and resolve-by instants for a report at at.
func (t *txn) deadlines(category, urgency string, at time.Time) (time.Time, time.Time, error) {
	cal, err := t.calendar()
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	sla, err := t.slaConfig()
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	s := sla.lookup(category, urgency)
	return cal.Add(at, time.Duration(s.AcceptMinutes)*time.Minute).UTC(), cal.Add(at, time.Duration(s.ResolveMinutes)*time.Minute).UTC(), nil
}
