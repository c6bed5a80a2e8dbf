package core

import (
	"context"
	"slices"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// Update changes a resident's name (sealed again), kind, grid within the
// village, or house.
func (pp *People) Update(ctx context.Context, id string, in model.PersonPatch) (*model.Person, error) {
	p, err := pp.visible(ctx, id)
	if err != nil {
		return nil, err
	}
	u := state.PersonUpdatePayload{ID: p.ID, Kind: p.Kind, Jurisdiction: p.Jurisdiction, Grid: p.Grid, House: p.House}
	if in.Kind != nil {
		if !slices.Contains(model.ResidentKinds, *in.Kind) {
			return nil, errs.Invalid("kind", "enum", "kind must be one of %v", model.ResidentKinds)
		}
		u.Kind = *in.Kind
	}
	if in.Grid != nil {
		u.Grid = *in.Grid
	}
	if in.House != nil {
		u.House = *in.House
	}
	if in.Name != nil {
		if *in.Name == "" || len(*in.Name) > 100 {
			return nil, errs.Invalid("name", "required", "name must be 1..100 bytes")
		}
		if u.NameSealed, err = pp.s.keyring().Seal([]byte(*in.Name), "person/"+p.ID+"/name"); err != nil {
			return nil, err
		}
		u.NameMasked = model.MaskName(*in.Name)
	}
	return applyAs[*model.Person](ctx, pp.s, "person.update", p.Jurisdiction, u)
}

// Transfer moves a resident to another village or community this group
// holds, with the reason in the audit chain. The caller's scope must cover
// both places; a village another group holds is not found here, and the
// record goes there by a handover instead.
func (pp *People) Transfer(ctx context.Context, id string, to model.Transfer) (*model.Person, error) {
	if err := model.CheckReason(to.Reason); err != nil {
		return nil, err
	}
	if to.Jurisdiction == "" {
		return nil, errs.Invalid("jurisdiction", "required", "name the village/community the person moves to")
	}
	p, err := pp.visible(ctx, id)
	if err != nil {
		return nil, err
	}
	if to.Jurisdiction == p.Jurisdiction {
		return nil, errs.Invalid("jurisdiction", "same", "the person already lives in %s; change the grid or house with an update", to.Jurisdiction)
	}
	u := state.PersonUpdatePayload{ID: p.ID, Kind: p.Kind, Jurisdiction: to.Jurisdiction, Grid: to.Grid, House: to.House, Reason: to.Reason}
	return applyAs[*model.Person](ctx, pp.s, "person.update", to.Jurisdiction, u)
}

// visible loads a person the context's scope covers; one outside it reads
// as no person.
func (pp *People) visible(ctx context.Context, id string) (*model.Person, error) {
	p, err := pp.Get(id)
	if err != nil {
		return nil, err
	}
	if sc := scopeOf(ctx); sc != "" && !state.IsUnder(p.Place(), sc) {
		return nil, errs.NotFound("id", "person %s not found", id)
	}
	return p, nil
}
