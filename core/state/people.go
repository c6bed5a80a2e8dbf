package state

import (
	"encoding/json"
	"slices"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/seal"
	"go.etcd.io/bbolt"
)

// checkPlace checks that a village and, if given, a grid in it exist within
// the command's scope.
func (t *txn) checkPlace(c *Command, jur, grid string) error {
	if grid == "" {
		if err := placeIn(c, "jurisdiction", jur); err != nil {
			return err
		}
	}
	if _, err := t.village("jurisdiction", jur); err != nil {
		return err
	}
	if grid != "" {
		g, err := loadIn(t, c, bGrid, grid, "grid", "grid", (*model.Grid).Place)
		if err != nil {
			return err
		}
		if g.Jurisdiction != jur {
			return errs.NotFound("grid", "grid %s is not in %s", grid, jur)
		}
	}
	return nil
}

func personLocKey(p *model.Person) []byte {
	loc := p.Jurisdiction
	if p.Grid != "" {
		loc = p.Grid
	}
	return key(loc, p.ID)
}

func applyPersonAdd(t *txn, c *Command, p *model.Person) (any, error) {
	if err := model.CheckID("id", p.ID); err != nil {
		return nil, err
	}
	if _, err := seal.BlindGeneration(p.IDBlind); err != nil || p.NameSealed == "" || p.IDSealed == "" {
		return nil, errs.Invalid("id_number", "sealed", "person must carry a sealed name and ID number and a blind index")
	}
	if !slices.Contains(model.ResidentKinds, p.Kind) {
		return nil, errs.Invalid("kind", "enum", "kind must be one of %v", model.ResidentKinds)
	}
	if p.Special != nil {
		return nil, errs.Invalid("special", "separate", "set special-population records with person.special")
	}
	if err := t.checkPlace(c, p.Jurisdiction, p.Grid); err != nil {
		return nil, err
	}
	if err := t.checkHome(c, p); err != nil {
		return nil, err
	}
	var prior model.Person
	if exists, err := t.getRecord(bPerson, []byte(p.ID), &prior); err != nil {
		return nil, err
	} else if exists && hidden(c, prior.Place()) {
		return nil, unavailable("id", p.ID)
	} else if exists {
		return nil, errs.Conflict("id", "exists", "person %s already exists", p.ID)
	}
	if other := t.b(BucketPersonBI).Get([]byte(p.IDBlind)); other != nil {
		return nil, t.registeredElsewhere(c, string(other))
	}
	if err := t.b(BucketPersonBI).Put([]byte(p.IDBlind), []byte(p.ID)); err != nil {
		return nil, err
	}
	if err := t.put(bPersonLoc, personLocKey(p)); err != nil {
		return nil, err
	}
	return p, t.putRecord(bPerson, []byte(p.ID), p)
}

// ErrRegisteredElsewhere marks a person whose ID number is already
// registered in a place the caller cannot see: the record must be handed
// over (转移), not registered twice. It wraps errs.ErrConflict.
var ErrRegisteredElsewhere = errs.Conflict("id_number", "registered_elsewhere",
	"a person with this ID number is registered in another jurisdiction; ask for the record to be transferred (handover)")

// registeredElsewhere answers a second registration of an ID number. Within
// the caller's scope it names the record; outside it, neither the record
// nor its place.
func (t *txn) registeredElsewhere(c *Command, id string) error {
	var other model.Person
	if ok, err := t.getRecord(bPerson, []byte(id), &other); err != nil {
		return err
	} else if ok && !hidden(c, other.Place()) {
		return errs.Conflict("id_number", "exists", "a person with this ID number is already registered (%s)", id)
	}
	return ErrRegisteredElsewhere
}

// loadPerson loads a person the command may see.
func (t *txn) loadPerson(c *Command, id string) (*model.Person, error) {
	return loadIn(t, c, bPerson, id, "id", "person", (*model.Person).Place)
}

// ReadPayload is the payload of audit.read: a read of sensitive details.
type ReadPayload struct {
	Person  string   `json:"person,omitempty"`
	Event   string   `json:"event,omitempty"` // a reporter's contact, instead of a person
	Under   string   `json:"under,omitempty"` // everyone under a place (an export), instead of a person
	Fields  []string `json:"fields"`
	Purpose string   `json:"purpose"`
	Basis   string   `json:"basis,omitempty"` // version 2: one of RevealBases
}

// applyAuditRead changes nothing but the audit chain: a read of sensitive
// details becomes an audit record like any write.
func applyAuditRead(t *txn, c *Command, rp *ReadPayload) (any, error) {
	switch {
	case rp.Event != "" && c.Level >= LevelDaily:
		if _, err := t.scopedEvent(c, "event", rp.Event); err != nil {
			return nil, err
		}
	case rp.Under != "" && c.Level >= LevelDaily:
		if err := placeIn(c, "jurisdiction", rp.Under); err != nil {
			return nil, err
		}
	default:
		if _, err := t.loadPerson(c, rp.Person); err != nil {
			return nil, err
		}
	}
	if len(rp.Fields) == 0 {
		return nil, errs.Invalid("fields", "required", "say which fields were read")
	}
	return nil, nil
}

// Get returns a person with masked name and ID number only.
func (eng *Engine) Person(id string) (*model.Person, error) {
	var p model.Person
	err := eng.View(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bPerson).Get([]byte(id))
		if raw == nil {
			return errs.NotFound("id", "person %s not found", id)
		}
		return json.Unmarshal(raw, &p)
	})
	return &p, err
}

// List returns people under a jurisdiction or grid code, masked, a page at a
// time: after is the cursor from the previous page, and next is "" when done.
func (eng *Engine) People(under, after string, limit int) (people []*model.Person, next string, err error) {
	limit = PageLimit(limit, 100, 500)
	pre, err := eng.Scope("under", under)
	if err != nil {
		return nil, "", err
	}
	return refsPage[*model.Person](eng, bPersonLoc, bPerson, []byte(pre), after, limit)
}

// PersonByBlind finds the person one of the blind indexes (one per key
// generation) names; "" when none does.
func (eng *Engine) PersonByBlind(indexes []string) (string, error) {
	var id string
	err := eng.View(func(tx *bbolt.Tx) error {
		for _, bi := range indexes {
			if id = string(tx.Bucket(BucketPersonBI).Get([]byte(bi))); id != "" {
				break
			}
		}
		return nil
	})
	return id, err
}
