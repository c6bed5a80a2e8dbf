package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"go.etcd.io/bbolt"
)

func (t *txn) visitPolicy() (*model.VisitPolicy, error) {
	if t.policy == nil {
		p := model.DefaultVisitPolicy
		if _, err := t.getRecord(bConfig, configVisitPolicy, &p); err != nil {
			return nil, err
		}
		t.policy = &p
	}
	return t.policy, nil
}

func visitDueKey(p *model.Person) []byte {
	loc := string(personLocKey(p))
	return []byte(timeKey(p.Special.NextDue.Unix()) + loc)
}

// SpecialPayload is the payload of person.special.
type SpecialPayload struct {
	ID      string         `json:"id"`
	Special *model.Special `json:"special"` // nil removes the record
}

func applyPersonSpecial(t *txn, c *Command, sp *SpecialPayload) (any, error) {
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
		if !slices.Contains(model.SpecialCategories, s.Category) {
			return nil, errs.Invalid("category", "enum", "category must be one of %v", model.SpecialCategories)
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
			s.LastVisit, s.Visits, s.AlertedFor, s.Contact = time.Time{}, 0, time.Time{}, model.ContactNormal
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

func applyVisit(t *txn, c *Command, v *model.Visit) (any, error) {
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
	k = append(append(append(k, p.ID...), '/'), U64(uint64(v.Seq))...)
	if err := t.putRecord(bVisit, k, v); err != nil {
		return nil, err
	}
	return v, t.putRecord(bPerson, []byte(p.ID), p)
}

// ContactPayload is the payload of person.contact.
type ContactPayload struct {
	ID      string `json:"id"`
	Contact string `json:"contact"`
	Note    string `json:"note,omitempty"`
}

// applyContact marks 失联/脱管. Losing contact opens an event in the same
// transaction; the event names the record, never the person's details.
func applyContact(t *txn, c *Command, cp *ContactPayload) (any, error) {
	if cp.Contact != model.ContactNormal && cp.Contact != model.ContactLost && cp.Contact != model.ContactOutOfControl {
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
	var opened *model.Event
	if cp.Contact != model.ContactNormal {
		// Since version 2 the event, which readers of events without sight
		// of special-population records see, does not say which it is.
		desc := fmt.Sprintf("特殊人群预警：人员编号 %s，请按权限查看人员记录", p.ID)
		if c.Version < 2 {
			label := map[string]string{model.ContactLost: "失联", model.ContactOutOfControl: "脱管"}[cp.Contact]
			desc = fmt.Sprintf("特殊人群%s预警：人员编号 %s", label, p.ID)
		}
		opened, err = t.reportEvent(c, &model.Report{Category: "special_population", Urgency: model.UrgencyUrgent, Source: "system",
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
func applyVisitAlerts(t *txn, c *Command, ap *IdsPayload) (any, error) {
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
		if _, err := t.reportEvent(c, &model.Report{Category: "special_population", Urgency: model.UrgencyNormal, Source: "system",
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

func applyConfigVisitPolicy(t *txn, c *Command, p *model.VisitPolicy) (any, error) {
	if inputRules(c) {
		if err := p.Validate(); err != nil {
			return nil, err
		}
	}
	t.policy = nil
	return nil, t.putRecord(bConfig, configVisitPolicy, p)
}

// Visits lists a person's visits, oldest first, a page at a time: after is
// the previous page's next ("" for the first), next is "" on the last page,
// and limit is 1..500 (else 100). A cursor from another person's visits is
// refused (field cursor).
func (eng *Engine) Visits(id, after string, limit int) (visits []model.Visit, next string, err error) {
	pre := []byte(id + "/")
	return cursorPage(eng, pre, after, func(tx *bbolt.Tx, from []byte) ([]model.Visit, []byte, error) {
		return PageValues[model.Visit](tx, bVisit, pre, from, PageLimit(limit, 100, 500), func(k []byte) bool { return len(k) == len(pre)+8 }, nil)
	})
}

// DueVisits lists special-population subjects under a jurisdiction whose next
// visit is due before the given time (pass now for the overdue ones).
func (eng *Engine) DueVisits(under string, before time.Time, limit int) ([]*model.Person, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	pre, err := eng.Scope("under", under)
	if err != nil {
		return nil, err
	}
	end := []byte(timeKey(before.Unix()))
	var out []*model.Person
	err = eng.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bVisitDue).Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k[:8], end) < 0 && len(out) < limit; k, _ = c.Next() {
			if !bytes.HasPrefix(k[8:], []byte(pre)) {
				continue
			}
			var p model.Person
			if err := json.Unmarshal(tx.Bucket(bPerson).Get(k[bytes.LastIndexByte(k, '/')+1:]), &p); err != nil {
				return err
			}
			out = append(out, &p)
		}
		return nil
	})
	return out, err
}
