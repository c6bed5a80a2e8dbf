package core

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/idcard"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// 户籍, 流动, 境外, 留守

// People is the typed API for residents, houses and special populations.
type People struct{ s *Store }

// Add registers a resident.
func (pp *People) Add(ctx context.Context, in model.PersonInput) (*model.Person, error) {
	c, err := pp.addCommand(ctx, in)
	return prepared[*model.Person](ctx, pp.s, c, err)
}

// addCommand checks in, seals its name and ID number and returns the
// person.add command, not yet proposed (an import batches these).
func (pp *People) addCommand(ctx context.Context, in model.PersonInput) (*state.Command, error) {
	if in.ID == "" {
		in.ID = "p-" + NewID()[:16]
	}
	if err := model.CheckID("id", in.ID); err != nil {
		return nil, err
	}
	if in.Name == "" || len(in.Name) > 100 {
		return nil, errs.Invalid("name", "required", "name must be 1..100 bytes")
	}
	idn := idcard.Normalize(in.IDNumber)
	if err := pp.s.ids.Validate(idn); err != nil {
		return nil, err
	}
	if !slices.Contains(model.ResidentKinds, in.Kind) {
		return nil, errs.Invalid("kind", "enum", "kind must be one of %v", model.ResidentKinds)
	}
	// While people are re-indexed after a rotation, this person may still
	// be indexed under an older key, which apply's check cannot see.
	kr := pp.s.keyring()
	if len(kr.BlindIndexes("id_number", idn)) > 1 {
		if p, err := pp.FindByIDNumber(idn); err == nil {
			if sc := scopeOf(ctx); sc != "" && !state.IsUnder(p.Place(), sc) {
				return nil, state.ErrRegisteredElsewhere
			}
			return nil, errs.Conflict("id_number", "exists", "a person with this ID number is already registered (%s)", p.ID)
		}
	}
	nameSealed, err := kr.Seal([]byte(in.Name), "person/"+in.ID+"/name")
	if err != nil {
		return nil, err
	}
	idSealed, err := kr.Seal([]byte(idn), "person/"+in.ID+"/id_number")
	if err != nil {
		return nil, err
	}
	p := model.Person{ID: in.ID, NameMasked: model.MaskName(in.Name), NameSealed: nameSealed, IDMasked: idcard.Mask(idn),
		IDSealed: idSealed, IDBlind: kr.BlindIndex("id_number", idn), Kind: in.Kind,
		Jurisdiction: in.Jurisdiction, Grid: in.Grid, House: in.House}
	return pp.s.command(ctx, "person.add", in.Jurisdiction, p)
}

// Import registers the residents next yields, each with the row number the
// caller counts it by, in batches of one transaction each. A refused row is
// reported with its number and reason, and nothing of it is kept; the
// others are. progress, if set, hears how many rows are done after each
// batch.
func (pp *People) Import(ctx context.Context, next func() (row int, in model.PersonInput, err error, ok bool), progress func(done int)) (ImportResult, error) {
	return importRows(ctx, pp.s, next, pp.addCommand, progress)
}

// Get returns a person with masked name and ID number only.
func (pp *People) Get(id string) (*model.Person, error) {
	return pp.s.engine.Person(id)
}

// FindByIDNumber finds a person by exact ID number through the blind index,
// under every index key the keyring holds (people not yet re-indexed after a
// rotation are found too).
func (pp *People) FindByIDNumber(idNumber string) (*model.Person, error) {
	id, err := pp.s.engine.PersonByBlind(pp.s.keyring().BlindIndexes("id_number", idcard.Normalize(idNumber)))
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, errs.NotFound("id_number", "no person with that ID number")
	}
	return pp.Get(id)
}

// Reveal decrypts a person's name, ID number and special-population details.
// The read is written to the audit chain (with actor, legal basis and
// purpose) before any plaintext is returned; callers check the role first.
func (pp *People) Reveal(ctx context.Context, id string, why model.Purpose) (*model.Revealed, error) {
	if err := why.Check(); err != nil {
		return nil, err
	}
	p, err := pp.Get(id)
	if err != nil {
		return nil, err
	}
	fields := []string{"name", "id_number"}
	if p.Special != nil {
		fields = append(fields, "special.details")
	}
	if _, err := pp.s.apply(ctx, "audit.read", p.Jurisdiction, state.ReadPayload{Person: id, Fields: fields, Purpose: why.Text, Basis: why.Basis}); err != nil {
		return nil, err
	}
	name, err := pp.s.keyring().Open(p.NameSealed, "person/"+id+"/name")
	if err != nil {
		return nil, err
	}
	idn, err := pp.s.keyring().Open(p.IDSealed, "person/"+id+"/id_number")
	if err != nil {
		return nil, err
	}
	r := &model.Revealed{ID: id, Name: string(name), IDNumber: string(idn)}
	if p.Special != nil {
		raw, err := pp.s.keyring().Open(p.Special.DetailsSealed, "person/"+id+"/special")
		if err != nil {
			return nil, err
		}
		r.Details = &model.SpecialDetails{}
		if err := json.Unmarshal(raw, r.Details); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// List returns people under a jurisdiction or grid code, masked, a page at a
// time: after is the cursor from the previous page, and next is "" when done.
func (pp *People) List(under, after string, limit int) (people []*model.Person, next string, err error) {
	return pp.s.engine.People(under, after, limit)
}

// RevealExport opens names and ID numbers for an export of everyone under
// a place: one audit record (with the legal basis and purpose) for the
// whole export is written first, and the answer opens each person's
// fields. Callers check the role first.
func (pp *People) RevealExport(ctx context.Context, under string, why model.Purpose) (func(p *model.Person) (name, idNumber string, err error), error) {
	if err := why.Check(); err != nil {
		return nil, err
	}
	if _, err := pp.s.apply(ctx, "audit.read", under, state.ReadPayload{Under: under, Fields: []string{"name", "id_number"}, Purpose: why.Text, Basis: why.Basis}); err != nil {
		return nil, err
	}
	kr := pp.s.keyring()
	return func(p *model.Person) (string, string, error) {
		name, err := kr.Open(p.NameSealed, "person/"+p.ID+"/name")
		if err != nil {
			return "", "", err
		}
		idn, err := kr.Open(p.IDSealed, "person/"+p.ID+"/id_number")
		return string(name), string(idn), err
	}, nil
}
