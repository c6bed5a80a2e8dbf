package model

import (
	"maps"
	"slices"

	"github.com/fengqiao/fengqiao/core/errs"
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

// Urgency levels.
const (
	UrgencyNormal   = "normal"   // 一般
	UrgencyUrgent   = "urgent"   // 紧急
	UrgencyCritical = "critical" // 特急
)

// Urgencies lists the urgency levels.
var Urgencies = []string{UrgencyNormal, UrgencyUrgent, UrgencyCritical}

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

// Clone is a deep copy: decoding a stored table over DefaultSLA's maps
// would otherwise change the defaults of every store in the process.
func (c SLAConfig) Clone() SLAConfig {
	out := SLAConfig{Default: maps.Clone(c.Default)}
	if c.PerCategory != nil {
		out.PerCategory = make(map[string]map[string]SLA, len(c.PerCategory))
		for k, v := range c.PerCategory {
			out.PerCategory[k] = maps.Clone(v)
		}
	}
	return out
}

// WorkDay is one working day in working minutes (SLAs count them).
const WorkDay = 24 * 60

// DefaultSLA: 一般 accept in 1 working day, resolve in 5; 紧急 2 hours and 2
// days; 特急 30 minutes and 1 day.
var DefaultSLA = SLAConfig{Default: map[string]SLA{
	UrgencyNormal:   {AcceptMinutes: WorkDay, ResolveMinutes: 5 * WorkDay},
	UrgencyUrgent:   {AcceptMinutes: 120, ResolveMinutes: 2 * WorkDay},
	UrgencyCritical: {AcceptMinutes: 30, ResolveMinutes: WorkDay},
}}

// Validate checks every urgency has a default and every SLA a sane range.
func (c *SLAConfig) Validate() error {
	check := func(f string, m map[string]SLA) error {
		for u, s := range m {
			if !slices.Contains(Urgencies, u) {
				return errs.Invalid(f+"."+u, "enum", "urgency must be one of %v", Urgencies)
			}
			if s.AcceptMinutes <= 0 || s.ResolveMinutes < s.AcceptMinutes || s.ResolveMinutes > 365*WorkDay {
				return errs.Invalid(f+"."+u, "range", "need 0 < accept ≤ resolve ≤ 365 working days")
			}
		}
		return nil
	}
	for _, u := range Urgencies {
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

// Lookup is the SLA for a category and urgency: its override, else the default.
func (c *SLAConfig) Lookup(category, urgency string) SLA {
	if m, ok := c.PerCategory[category]; ok {
		if s, ok := m[urgency]; ok {
			return s
		}
	}
	return c.Default[urgency]
}
