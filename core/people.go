package core

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/idcard"
	"github.com/fengqiao/fengqiao/core/seal"
)

// Resident kinds.
var residentKinds = []string{"registered", "floating", "foreign", "left_behind"} // 户籍, 流动, 境外, 留守

// House is a dwelling in a village or community.
type House struct {
	ID           string `json:"id"`
	Address      string `json:"address"`
	Jurisdiction string `json:"jurisdiction"`
	Grid         string `json:"grid,omitempty"`
}

// Person is a resident as stored: the name and ID number only sealed, with
// masked forms for display and a blind index for exact lookup.
type Person struct {
	ID           string   `json:"id"`
	NameMasked   string   `json:"name_masked"`
	NameSealed   string   `json:"name_sealed"`
	IDMasked     string   `json:"id_masked"`
	IDSealed     string   `json:"id_sealed"`
	IDBlind      string   `json:"id_blind"`
	Kind         string   `json:"kind"`
	Jurisdiction string   `json:"jurisdiction"`
	Grid         string   `json:"grid,omitempty"`
	House        string   `json:"house,omitempty"`
	Special      *Special `json:"special,omitempty"`
}

// People is the typed API for residents, houses and special populations.
type People struct{ s *Store }

func init() {
	handle("house.put", 1, applyHouse)
	handle("person.add", 1, applyPersonAdd)
	// Version 2 adds the legal basis of the read.
	handle("audit.read", 2, applyAuditRead)
}

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
		g, err := loadIn(t, c, bGrid, grid, "grid", "grid", (*Grid).Place)
		if err != nil {
			return err
		}
		if g.Jurisdiction != jur {
			return errs.NotFound("grid", "grid %s is not in %s", grid, jur)
		}
	}
	return nil
}

func applyHouse(t *txn, c *Command, h *House) (any, error) {
	if err := checkID("id", h.ID); err != nil {
		return nil, err
	}
	if h.Address == "" || len(h.Address) > 500 {
		return nil, errs.Invalid("address", "required", "address must be 1..500 bytes")
	}
	if err := t.checkPlace(c, h.Jurisdiction, h.Grid); err != nil {
		return nil, err
	}
	var old House
	if exists, err := t.getRecord(bHouse, []byte(h.ID), &old); err != nil {
		return nil, err
	} else if exists && hidden(c, housePlace(&old)) {
		return nil, unavailable("id", h.ID)
	}
	return h, t.putRecord(bHouse, []byte(h.ID), h)
}

func personLocKey(p *Person) []byte {
	loc := p.Jurisdiction
	if p.Grid != "" {
		loc = p.Grid
	}
	return key(loc, p.ID)
}

func applyPersonAdd(t *txn, c *Command, p *Person) (any, error) {
	if err := checkID("id", p.ID); err != nil {
		return nil, err
	}
	if _, err := seal.BlindGeneration(p.IDBlind); err != nil || p.NameSealed == "" || p.IDSealed == "" {
		return nil, errs.Invalid("id_number", "sealed", "person must carry a sealed name and ID number and a blind index")
	}
	if !slices.Contains(residentKinds, p.Kind) {
		return nil, errs.Invalid("kind", "enum", "kind must be one of %v", residentKinds)
	}
	if p.Special != nil {
		return nil, errs.Invalid("special", "separate", "set special-population records with person.special")
	}
	if err := t.checkPlace(c, p.Jurisdiction, p.Grid); err != nil {
		return nil, err
	}
	if p.House != "" {
		if _, err := loadIn(t, c, bHouse, p.House, "house", "house", housePlace); err != nil {
			return nil, err
		}
	}
	var prior Person
	if exists, err := t.getRecord(bPerson, []byte(p.ID), &prior); err != nil {
		return nil, err
	} else if exists && hidden(c, prior.Place()) {
		return nil, unavailable("id", p.ID)
	} else if exists {
		return nil, errs.Conflict("id", "exists", "person %s already exists", p.ID)
	}
	if other := t.b(bPersonBI).Get([]byte(p.IDBlind)); other != nil {
		return nil, t.registeredElsewhere(c, string(other))
	}
	if err := t.b(bPersonBI).Put([]byte(p.IDBlind), []byte(p.ID)); err != nil {
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
	var other Person
	if ok, err := t.getRecord(bPerson, []byte(id), &other); err != nil {
		return err
	} else if ok && !hidden(c, other.Place()) {
		return errs.Conflict("id_number", "exists", "a person with this ID number is already registered (%s)", id)
	}
	return ErrRegisteredElsewhere
}

func housePlace(h *House) string { return placeOf(h.Jurisdiction, h.Grid) }

// Place is the most specific code the person lives at: the grid, else the
// village. Scope checks use it, so a token scoped to one grid sees the
// people of that grid.
func (p *Person) Place() string { return placeOf(p.Jurisdiction, p.Grid) }

// loadPerson loads a person the command may see.
func (t *txn) loadPerson(c *Command, id string) (*Person, error) {
	return loadIn(t, c, bPerson, id, "id", "person", (*Person).Place)
}

type readPayload struct {
	Person  string   `json:"person"`
	Fields  []string `json:"fields"`
	Purpose string   `json:"purpose"`
	Basis   string   `json:"basis,omitempty"` // version 2: one of RevealBases
}

// Legal bases a reveal of sensitive details may rest on (PIPL art. 13, 28):
// the audit shows which one, and the purpose in words.
const (
	BasisVisit            = "visit"             // 走访
	BasisCaseHandling     = "case_handling"     // 案事件办理
	BasisHandover         = "handover"          // 人员转移交接
	BasisStatisticsReview = "statistics_review" // 统计核查
	BasisOther            = "other"             // 其他 (say which in the purpose)
)

// RevealBases lists the legal bases a reveal may name.
var RevealBases = []string{BasisVisit, BasisCaseHandling, BasisHandover, BasisStatisticsReview, BasisOther}

// MaxPurpose bounds a reveal's purpose, in characters.
const MaxPurpose = 200

// Purpose is why sensitive details are read: a legal basis from
// RevealBases and the purpose in words (at most MaxPurpose characters).
type Purpose struct {
	Basis string `json:"basis"`
	Text  string `json:"purpose"`
}

func (p Purpose) check() error {
	if !slices.Contains(RevealBases, p.Basis) {
		return errs.Invalid("basis", "enum", "basis must be one of %v", RevealBases)
	}
	if strings.TrimSpace(p.Text) == "" {
		return errs.Invalid("purpose", "required", "say why the details are read")
	}
	if n := utf8.RuneCountInString(p.Text); n > MaxPurpose || !utf8.ValidString(p.Text) {
		return errs.Invalid("purpose", "length", "purpose must be valid text of at most %d characters", MaxPurpose)
	}
	return nil
}

// applyAuditRead changes nothing but the audit chain: a read of sensitive
// details becomes an audit record like any write.
func applyAuditRead(t *txn, c *Command, rp *readPayload) (any, error) {
	if _, err := t.loadPerson(c, rp.Person); err != nil {
		return nil, err
	}
	if len(rp.Fields) == 0 {
		return nil, errs.Invalid("fields", "required", "say which fields were read")
	}
	return nil, nil
}

// PersonInput is the input to register a resident. Name and IDNumber are
// sealed before they leave this process.
type PersonInput struct {
	ID           string `json:"id,omitempty"` // default: generated
	Name         string `json:"name"`
	IDNumber     string `json:"id_number"`
	Kind         string `json:"kind"`
	Jurisdiction string `json:"jurisdiction"`
	Grid         string `json:"grid,omitempty"`
	House        string `json:"house,omitempty"`
}

// MaskName keeps the first character: 张三 → 张*.
func MaskName(name string) string {
	r, size := utf8.DecodeRuneInString(name)
	if r == utf8.RuneError {
		return "*"
	}
	return name[:size] + strings.Repeat("*", max(1, utf8.RuneCountInString(name)-1))
}

// Add registers a resident.
func (pp *People) Add(ctx context.Context, in PersonInput) (*Person, error) {
	if in.ID == "" {
		in.ID = "p-" + NewID()[:16]
	}
	if err := checkID("id", in.ID); err != nil {
		return nil, err
	}
	if in.Name == "" || len(in.Name) > 100 {
		return nil, errs.Invalid("name", "required", "name must be 1..100 bytes")
	}
	idn := idcard.Normalize(in.IDNumber)
	if err := pp.s.ids.Validate(idn); err != nil {
		return nil, err
	}
	if !slices.Contains(residentKinds, in.Kind) {
		return nil, errs.Invalid("kind", "enum", "kind must be one of %v", residentKinds)
	}
	// While people are re-indexed after a rotation, this person may still
	// be indexed under an older key, which apply's check cannot see.
	kr := pp.s.keyring()
	if len(kr.BlindIndexes("id_number", idn)) > 1 {
		if p, err := pp.FindByIDNumber(idn); err == nil {
			if sc := scopeOf(ctx); sc != "" && !isUnder(p.Place(), sc) {
				return nil, ErrRegisteredElsewhere
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
	p := Person{ID: in.ID, NameMasked: MaskName(in.Name), NameSealed: nameSealed, IDMasked: idcard.Mask(idn),
		IDSealed: idSealed, IDBlind: kr.BlindIndex("id_number", idn), Kind: in.Kind,
		Jurisdiction: in.Jurisdiction, Grid: in.Grid, House: in.House}
	return applyAs[*Person](ctx, pp.s, "person.add", in.Jurisdiction, p)
}

// PutHouse creates or updates a house.
func (pp *People) PutHouse(ctx context.Context, h House) (*House, error) {
	if err := checkID("id", h.ID); err != nil {
		return nil, err
	}
	return applyAs[*House](ctx, pp.s, "house.put", h.Jurisdiction, h)
}

// Get returns a person with masked name and ID number only.
func (pp *People) Get(id string) (*Person, error) {
	var p Person
	err := pp.s.engine.View(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bPerson).Get([]byte(id))
		if raw == nil {
			return errs.NotFound("id", "person %s not found", id)
		}
		return json.Unmarshal(raw, &p)
	})
	return &p, err
}

// FindByIDNumber finds a person by exact ID number through the blind index,
// under every index key the keyring holds (people not yet re-indexed after a
// rotation are found too).
func (pp *People) FindByIDNumber(idNumber string) (*Person, error) {
	var id string
	pp.s.engine.View(func(tx *bbolt.Tx) error {
		for _, bi := range pp.s.keyring().BlindIndexes("id_number", idcard.Normalize(idNumber)) {
			if id = string(tx.Bucket(bPersonBI).Get([]byte(bi))); id != "" {
				break
			}
		}
		return nil
	})
	if id == "" {
		return nil, errs.NotFound("id_number", "no person with that ID number")
	}
	return pp.Get(id)
}

// Revealed is a person's sensitive fields in the clear.
type Revealed struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	IDNumber string          `json:"id_number"`
	Details  *SpecialDetails `json:"details,omitempty"`
}

// Reveal decrypts a person's name, ID number and special-population details.
// The read is written to the audit chain (with actor, legal basis and
// purpose) before any plaintext is returned; callers check the role first.
func (pp *People) Reveal(ctx context.Context, id string, why Purpose) (*Revealed, error) {
	if err := why.check(); err != nil {
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
	if _, err := pp.s.apply(ctx, "audit.read", p.Jurisdiction, readPayload{Person: id, Fields: fields, Purpose: why.Text, Basis: why.Basis}); err != nil {
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
	r := &Revealed{ID: id, Name: string(name), IDNumber: string(idn)}
	if p.Special != nil {
		raw, err := pp.s.keyring().Open(p.Special.DetailsSealed, "person/"+id+"/special")
		if err != nil {
			return nil, err
		}
		r.Details = &SpecialDetails{}
		if err := json.Unmarshal(raw, r.Details); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// List returns people under a jurisdiction or grid code, masked, a page at a
// time: after is the cursor from the previous page, and next is "" when done.
func (pp *People) List(under, after string, limit int) (people []*Person, next string, err error) {
	limit = pageLimit(limit, 100, 500)
	pre, err := pp.s.scope("under", under)
	if err != nil {
		return nil, "", err
	}
	return refsPage[*Person](pp.s.engine, bPersonLoc, bPerson, []byte(pre), after, limit)
}
