package core

import (
	"context"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// Houses is the typed API for houses (实有房屋) and who lives in them.
type Houses struct{ s *Store }

// Add registers a house; an empty ID is generated.
func (hs *Houses) Add(ctx context.Context, h model.House) (*model.House, error) {
	c, err := hs.addCommand(ctx, h)
	return prepared[*model.House](ctx, hs.s, c, err)
}

func (hs *Houses) addCommand(ctx context.Context, h model.House) (*state.Command, error) {
	if h.ID == "" {
		h.ID = "h-" + NewID()[:16]
	}
	if err := model.CheckHouse(&h); err != nil {
		return nil, err
	}
	return hs.s.command(ctx, "house.add", h.Jurisdiction, h)
}

// Import registers the houses next yields, as People.Import does residents.
func (hs *Houses) Import(ctx context.Context, next func() (row int, h model.House, err error, ok bool), progress func(done int)) (ImportResult, error) {
	return importRows(ctx, hs.s, next, hs.addCommand, progress)
}

// Update changes some of a house's fields. Its village does not change, and
// its grid changes only while nobody lives there.
func (hs *Houses) Update(ctx context.Context, id string, p model.HousePatch) (*model.House, error) {
	old, err := hs.Get(id)
	if err != nil {
		return nil, err
	}
	h := p.Apply(*old)
	h.Status, h.Reason = "", ""
	if err := model.CheckHouse(&h); err != nil {
		return nil, err
	}
	return applyAs[*model.House](ctx, hs.s, "house.put", h.Jurisdiction, h)
}

// Retire takes a house out of use once nobody lives there.
func (hs *Houses) Retire(ctx context.Context, id, reason string) (*model.House, error) {
	if err := model.CheckReason(reason); err != nil {
		return nil, err
	}
	return applyAs[*model.House](ctx, hs.s, "house.retire", "", state.HouseRetirePayload{ID: id, Reason: reason})
}

// Get returns one house.
func (hs *Houses) Get(id string) (*model.House, error) { return hs.s.engine.House(id) }

// List pages through the houses under a jurisdiction or grid code: after is
// the previous page's next, and next is "" on the last page.
func (hs *Houses) List(under, after string, limit int) ([]*model.House, string, error) {
	return hs.s.engine.Houses(under, after, limit)
}

// Residents returns up to limit (1..500, else 100) people living in a house,
// masked.
func (hs *Houses) Residents(h *model.House, limit int) ([]*model.Person, error) {
	return hs.s.engine.Residents(h, state.PageLimit(limit, 100, 500))
}
