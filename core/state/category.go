package state

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/workcal"
	"go.etcd.io/bbolt"
)

var baseByCode = func() map[string]model.Category {
	m := map[string]model.Category{}
	for _, c := range model.BaseCategories {
		m[c.Code] = c
	}
	return m
}()

// CheckCategory applies the input rules of a local category.
func CheckCategory(c model.Category) error {
	if err := model.CheckID("code", c.Code); err != nil {
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

func (t *txn) slaConfig() (*model.SLAConfig, error) {
	if t.sla == nil {
		s := model.DefaultSLA.Clone() // a stored table is decoded over the defaults
		if _, err := t.getRecord(bConfig, configSLA, &s); err != nil {
			return nil, err
		}
		t.sla = &s
	}
	return t.sla, nil
}

func (t *txn) category(code string) (model.Category, bool, error) {
	if c, ok := baseByCode[code]; ok {
		return c, true, nil
	}
	var c model.Category
	ok, err := t.getRecord(bCategory, []byte(code), &c)
	return c, ok, err
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
	s := sla.Lookup(category, urgency)
	return cal.Add(at, time.Duration(s.AcceptMinutes)*time.Minute).UTC(), cal.Add(at, time.Duration(s.ResolveMinutes)*time.Minute).UTC(), nil
}

func applyConfigCalendar(t *txn, c *Command, cal *workcal.Calendar) (any, error) {
	if inputRules(c) {
		if err := cal.Validate(); err != nil {
			return nil, err
		}
	}
	cal.Normalize()
	t.cal = nil
	return nil, t.putRecord(bConfig, configCalendar, cal)
}

func applyConfigSla(t *txn, c *Command, s *model.SLAConfig) (any, error) {
	if inputRules(c) {
		if err := s.Validate(); err != nil {
			return nil, err
		}
	}
	t.sla = nil
	return nil, t.putRecord(bConfig, configSLA, s)
}

func applyCategoryAdd(t *txn, c *Command, cat *model.Category) (any, error) {
	if inputRules(c) {
		if err := CheckCategory(*cat); err != nil {
			return nil, err
		}
	}
	if _, ok := baseByCode[cat.Code]; ok {
		return nil, errs.Conflict("code", "exists", "category %s is in the national list", cat.Code)
	}
	return cat, t.putRecord(bCategory, []byte(cat.Code), cat)
}

// Categories lists the national base list followed by added categories.
func (eng *Engine) Categories() ([]model.Category, error) {
	out := append([]model.Category(nil), model.BaseCategories...)
	var added []model.Category
	err := eng.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bCategory).ForEach(func(_, v []byte) error {
			var c model.Category
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

// SLAConfig reads the deadline table in force (the default when none was set).
func (eng *Engine) SLAConfig() (model.SLAConfig, error) {
	s := model.DefaultSLA.Clone() // as apply reads it: the stored table over the defaults
	err := eng.View(func(tx *bbolt.Tx) error {
		if raw := tx.Bucket(bConfig).Get(configSLA); raw != nil {
			return decodeRecord(raw, &s)
		}
		return nil
	})
	return s, err
}

// Calendar reads the working-day calendar in force (empty when none was set).
func (eng *Engine) Calendar() (workcal.Calendar, error) {
	var c workcal.Calendar
	err := eng.View(func(tx *bbolt.Tx) error {
		if raw := tx.Bucket(bConfig).Get(configCalendar); raw != nil {
			return decodeRecord(raw, &c)
		}
		return nil
	})
	return c, err
}

func applyConfigOpen311(t *txn, c *Command, o *model.Open311Config) (any, error) {
	if err := o.Check(func(code string) bool { _, ok, _ := t.category(code); return ok }); err != nil {
		return nil, err
	}
	return o, t.putRecord(bConfig, configOpen311, o)
}

// Open311Config is what anyone may read through Open311 without a key.
func (eng *Engine) Open311Config() (model.Open311Config, error) {
	var o model.Open311Config
	err := eng.View(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bConfig).Get(configOpen311)
		if raw == nil {
			return nil
		}
		return decodeRecord(raw, &o)
	})
	return o, err
}
