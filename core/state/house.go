package state

import (
	"bytes"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"go.etcd.io/bbolt"
)

func housePlace(h *model.House) string { return h.Place() }

func houseLocKey(h *model.House) []byte { return key(h.Place(), h.ID) }

// applyHouse is house.put: create or update. From LevelDaily on it is the
// update, and keeps what an update may not change.
func applyHouse(t *txn, c *Command, h *model.House) (any, error) {
	if err := model.CheckID("id", h.ID); err != nil {
		return nil, err
	}
	if h.Address == "" || len(h.Address) > 500 {
		return nil, errs.Invalid("address", "required", "address must be 1..500 bytes")
	}
	if err := t.checkPlace(c, h.Jurisdiction, h.Grid); err != nil {
		return nil, err
	}
	var old model.House
	exists, err := t.getRecord(bHouse, []byte(h.ID), &old)
	switch {
	case err != nil:
		return nil, err
	case exists && hidden(c, old.Place()):
		return nil, unavailable("id", h.ID)
	}
	if c.Level >= LevelDaily && exists {
		switch {
		case old.Status == model.HouseRetired:
			return nil, errs.Conflict("id", "retired", "house %s is retired", h.ID)
		case old.Jurisdiction != h.Jurisdiction:
			return nil, errs.Invalid("jurisdiction", "immutable", "a house cannot move to another village; retire it and add it there")
		case old.Grid != h.Grid:
			if n, err := t.residents(&old, 1); err != nil {
				return nil, err
			} else if n > 0 {
				return nil, errs.Conflict("grid", "residents", "house %s has residents on grid %q; move them first", h.ID, old.Grid)
			}
		}
		h.Status, h.Reason = old.Status, old.Reason
	}
	return h, t.putHouse(exists, &old, h)
}

// applyHouseAdd is house.add: a new house, refused when the id is taken.
func applyHouseAdd(t *txn, c *Command, h *model.House) (any, error) {
	if err := t.checkPlace(c, h.Jurisdiction, h.Grid); err != nil {
		return nil, err
	}
	var old model.House
	if exists, err := t.getRecord(bHouse, []byte(h.ID), &old); err != nil {
		return nil, err
	} else if exists && hidden(c, old.Place()) {
		return nil, unavailable("id", h.ID)
	} else if exists {
		return nil, errs.Conflict("id", "exists", "house %s already exists", h.ID)
	}
	h.Status, h.Reason = "", ""
	return h, t.putHouse(false, nil, h)
}

// putHouse writes a house and moves its place index entry.
func (t *txn) putHouse(existed bool, old, h *model.House) error {
	if existed {
		if err := t.del(bHouseLoc, houseLocKey(old)); err != nil {
			return err
		}
	}
	if err := t.put(bHouseLoc, houseLocKey(h)); err != nil {
		return err
	}
	return t.putRecord(bHouse, []byte(h.ID), h)
}

// HouseRetirePayload is the payload of house.retire.
type HouseRetirePayload struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// applyHouseRetire takes a house out of use. A house people still live in
// is refused: they move (or the house is split) first.
func applyHouseRetire(t *txn, c *Command, p *HouseRetirePayload) (any, error) {
	h, err := loadIn(t, c, bHouse, p.ID, "id", "house", housePlace)
	if err != nil {
		return nil, err
	}
	if h.Status == model.HouseRetired {
		return nil, errs.Conflict("id", "retired", "house %s is already retired", p.ID)
	}
	if n, err := t.residents(h, 1); err != nil {
		return nil, err
	} else if n > 0 {
		return nil, errs.Conflict("id", "residents", "house %s still has residents; move them first", p.ID)
	}
	h.Status, h.Reason = model.HouseRetired, p.Reason
	return h, t.putRecord(bHouse, []byte(h.ID), h)
}

// checkHome refuses a resident's house that the command may not see and,
// from LevelDaily on, one that is retired or lies elsewhere than the
// resident.
func (t *txn) checkHome(c *Command, p *model.Person) error {
	if p.House == "" {
		return nil
	}
	h, err := loadIn(t, c, bHouse, p.House, "house", "house", housePlace)
	if err != nil || c.Level < LevelDaily {
		return err
	}
	if h.Status == model.HouseRetired {
		return errs.Conflict("house", "retired", "house %s is retired", h.ID)
	}
	if h.Jurisdiction != p.Jurisdiction || (h.Grid != "" && h.Grid != p.Grid) {
		return errs.Invalid("house", "place", "house %s lies in %s, not where the person lives (%s)", h.ID, h.Place(), p.Place())
	}
	return nil
}

// residents counts, up to max, the people who name h as their house. They
// live at its place (checkHome), so only that part of the place index is
// read.
func (t *txn) residents(h *model.House, max int) (int, error) {
	n := 0
	err := eachResident(t.tx, h, func(*model.Person) bool { n++; return n < max })
	return n, err
}

// residentsPrefix is the part of the person place index a house's
// residents lie under: its grid's, or its village's with all its grids.
func residentsPrefix(h *model.House) []byte {
	if h.Grid != "" {
		return key(h.Grid, "")
	}
	return []byte(h.Jurisdiction)
}

// eachResident calls fn with each person naming h as their house until fn
// answers false.
func eachResident(tx *bbolt.Tx, h *model.House, fn func(*model.Person) bool) error {
	pre := residentsPrefix(h)
	c := tx.Bucket(bPersonLoc).Cursor()
	people := tx.Bucket(bPerson)
	for k, _ := c.Seek(pre); k != nil && bytes.HasPrefix(k, pre); k, _ = c.Next() {
		raw := people.Get(k[bytes.LastIndexByte(k, '/')+1:])
		if raw == nil {
			continue
		}
		var p model.Person
		if err := decodeRecord(raw, &p); err != nil {
			return err
		}
		if p.House == h.ID && !fn(&p) {
			return nil
		}
	}
	return nil
}

// House returns one house.
func (eng *Engine) House(id string) (*model.House, error) {
	var h model.House
	err := eng.View(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bHouse).Get([]byte(id))
		if raw == nil {
			return errs.NotFound("id", "house %s not found", id)
		}
		return decodeRecord(raw, &h)
	})
	return &h, err
}

// Houses pages through the houses under a jurisdiction or grid code.
func (eng *Engine) Houses(under, after string, limit int) ([]*model.House, string, error) {
	pre, err := eng.Scope("under", under)
	if err != nil {
		return nil, "", err
	}
	return refsPage[*model.House](eng, bHouseLoc, bHouse, []byte(pre), after, PageLimit(limit, 100, 500))
}

// Residents returns up to limit people who name house as their house.
func (eng *Engine) Residents(h *model.House, limit int) ([]*model.Person, error) {
	var out []*model.Person
	err := eng.View(func(tx *bbolt.Tx) error {
		return eachResident(tx, h, func(p *model.Person) bool {
			out = append(out, p)
			return len(out) < limit
		})
	})
	return out, err
}
