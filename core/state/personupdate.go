package state

import (
	"slices"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// PersonUpdatePayload is the payload of person.update: a resident's fields
// as they are to be. The name comes sealed (and masked), or not at all to
// keep it.
type PersonUpdatePayload struct {
	ID           string `json:"id"`
	NameMasked   string `json:"name_masked,omitempty"`
	NameSealed   string `json:"name_sealed,omitempty"`
	Kind         string `json:"kind"`
	Jurisdiction string `json:"jurisdiction"`
	Grid         string `json:"grid,omitempty"`
	House        string `json:"house,omitempty"`
	// Reason is why a person moved village (a transfer); it stays in the
	// audit chain with the command.
	Reason string `json:"reason,omitempty"`
}

// applyPersonUpdate changes a resident's name, kind, grid, house or village
// (a transfer within the group). Both the record as it stands and where it
// goes must lie within the command's scope.
func applyPersonUpdate(t *txn, c *Command, u *PersonUpdatePayload) (any, error) {
	p, err := t.loadPerson(c, u.ID)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(model.ResidentKinds, u.Kind) {
		return nil, errs.Invalid("kind", "enum", "kind must be one of %v", model.ResidentKinds)
	}
	if (u.NameSealed == "") != (u.NameMasked == "") {
		return nil, errs.Invalid("name", "sealed", "a new name comes sealed and masked")
	}
	if err := t.checkPlace(c, u.Jurisdiction, u.Grid); err != nil {
		return nil, err
	}
	next := *p
	if u.NameSealed != "" {
		next.NameMasked, next.NameSealed = u.NameMasked, u.NameSealed
	}
	next.Kind, next.Jurisdiction, next.Grid, next.House = u.Kind, u.Jurisdiction, u.Grid, u.House
	if err := t.checkHome(c, &next); err != nil {
		return nil, err
	}
	if next.Place() != p.Place() {
		if err := t.del(bPersonLoc, personLocKey(p)); err != nil {
			return nil, err
		}
		if err := t.put(bPersonLoc, personLocKey(&next)); err != nil {
			return nil, err
		}
		if p.Special != nil {
			if err := t.del(bVisitDue, visitDueKey(p)); err != nil {
				return nil, err
			}
			if err := t.put(bVisitDue, visitDueKey(&next)); err != nil {
				return nil, err
			}
		}
	}
	return &next, t.putRecord(bPerson, []byte(p.ID), &next)
}
