package state

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/seal"
	"go.etcd.io/bbolt"
)

// MaxResealItems bounds one reseal command.
const MaxResealItems = 500

// SealedField is one sealed value inside a record and the aad it is bound to.
type SealedField struct {
	Name string
	Val  *string
	AAD  string
}

// sealedKind is a bucket whose records hold sealed values.
type sealedKind struct {
	name   string
	bucket []byte
	fields []string // every sealed field such a record can hold
	// open decodes a record and points at its sealed fields; ok is false
	// for keys in the bucket that are not such records.
	open func(k, v []byte) (rec any, fields []SealedField, ok bool, err error)
}

var sealedKinds = []sealedKind{
	{"person", bPerson, []string{"name", "id_number", "special"}, func(k, v []byte) (any, []SealedField, bool, error) {
		p := new(model.Person)
		if err := decodeRecord(v, p); err != nil {
			return nil, nil, false, err
		}
		fs := []SealedField{{"name", &p.NameSealed, "person/" + p.ID + "/name"}, {"id_number", &p.IDSealed, "person/" + p.ID + "/id_number"}}
		if p.Special != nil {
			fs = append(fs, SealedField{"special", &p.Special.DetailsSealed, "person/" + p.ID + "/special"})
		}
		return p, fs, true, nil
	}},
	{"visit", bVisit, []string{"note"}, func(k, v []byte) (any, []SealedField, bool, error) {
		if len(k) < 9 || k[len(k)-9] != '/' {
			return nil, nil, false, nil
		}
		x := new(model.Visit)
		if err := decodeRecord(v, x); err != nil {
			return nil, nil, false, err
		}
		return x, []SealedField{{"note", &x.NoteSealed, "person/" + x.Person + "/visit"}}, true, nil
	}},
	{"token", BucketToken, []string{"totp"}, func(k, v []byte) (any, []SealedField, bool, error) {
		tk := new(model.Token)
		if err := decodeRecord(v, tk); err != nil {
			return nil, nil, false, err
		}
		return tk, []SealedField{{"totp", &tk.TOTPSealed, "token/" + tk.ID + "/totp"}}, true, nil
	}},
	{"handover", bHandover, []string{"name", "id_number", "details"}, func(k, v []byte) (any, []SealedField, bool, error) {
		h := new(model.Handover)
		if err := decodeRecord(v, h); err != nil {
			return nil, nil, false, err
		}
		pre, details := SubjectAAD(h.Direction, h.ID, h.Person)
		s := &h.Subject
		return h, []SealedField{{"name", &s.NameSealed, pre + "name"}, {"id_number", &s.IDSealed, pre + "id_number"},
			{"details", &s.DetailsSealed, pre + details}}, true, nil
	}},
}

func sealedKindNamed(name string) *sealedKind {
	for i := range sealedKinds {
		if sealedKinds[i].name == name {
			return &sealedKinds[i]
		}
	}
	return nil
}

// EachSealedRecord calls fn with every record holding sealed values, in
// kind order and then key order, starting after the position from (nil:
// the start), with the decoded record and its non-empty sealed fields. fn returns errStop
// to end the scan.
func EachSealedRecord(tx *bbolt.Tx, from *resealPos, fn func(kind int, k []byte, rec any, fs []SealedField) error) error {
	for i := range sealedKinds {
		if from != nil && i < from.kind {
			continue
		}
		kind := &sealedKinds[i]
		b := tx.Bucket(kind.bucket)
		if b == nil {
			continue
		}
		c := b.Cursor()
		k, v := c.First()
		if from != nil && i == from.kind {
			if k, v = c.Seek(from.key); k != nil && bytes.Equal(k, from.key) {
				k, v = c.Next()
			}
		}
		for ; k != nil; k, v = c.Next() {
			rec, fs, ok, err := kind.open(k, v)
			if err != nil {
				return fmt.Errorf("core: %s %q: %w", kind.name, k, err)
			}
			if !ok {
				continue
			}
			fs = slices.DeleteFunc(fs, func(f SealedField) bool { return *f.Val == "" })
			if len(fs) == 0 {
				continue
			}
			if err := fn(i, k, rec, fs); err != nil {
				return err
			}
		}
	}
	return nil
}

// resealPos is where a reseal pass stopped: after key in sealedKinds[kind].
type resealPos struct {
	kind int
	key  []byte
}

// String is the position as a cursor ("" for none).
func (p *resealPos) String() string {
	if p == nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(append([]byte(sealedKinds[p.kind].name+"\x00"), p.key...))
}

func parseResealPos(after string) (*resealPos, error) {
	if after == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(after)
	if name, key, ok := bytes.Cut(raw, []byte{0}); err == nil && ok && len(key) > 0 {
		for i := range sealedKinds {
			if sealedKinds[i].name == string(name) {
				return &resealPos{kind: i, key: key}, nil
			}
		}
	}
	return nil, errs.Invalid("after", "format", "not a reseal position")
}

// SealCensus counts the sealed values and blind indexes in the state by
// key generation.
type SealCensus struct {
	Current     byte         `json:"current"`     // the generation this node seals with
	Generations map[byte]int `json:"generations"` // values sealed under each generation
	// CurrentIndex is the generation whose index key this node indexes
	// with (0: the key shared by generations made before index keys
	// rotated); Indexes counts people's ID-number indexes under each.
	CurrentIndex byte         `json:"current_index"`
	Indexes      map[byte]int `json:"indexes"`
	// Waiting counts handover offers not yet delivered that carry sealed
	// values: they keep the generation they were sent with until delivered.
	Waiting int `json:"waiting_offers"`
	// Tokens counts live tokens' hashes under each index key (the pepper).
	// A hash cannot be moved without the token's secret: a token moves to
	// the current key when it is next used (Tokens.Login). One still under
	// an index key removed from the key file stops working. Tokens stored
	// before the pepper (bare SHA-256) are not counted.
	Tokens map[byte]int `json:"tokens"`
}

// Old is how many values are sealed, and people indexed, under a generation
// other than the current one.
func (c SealCensus) Old() int {
	n := 0
	for g, v := range c.Generations {
		if g != c.Current {
			n += v
		}
	}
	for g, v := range c.Indexes {
		if g != c.CurrentIndex {
			n += v
		}
	}
	return n
}

// OldTokens is how many live tokens are hashed under an index key other
// than the current one: use or reissue them before that key goes.
func (c SealCensus) OldTokens() int {
	n := 0
	for g, v := range c.Tokens {
		if g != c.CurrentIndex {
			n += v
		}
	}
	return n
}

// Census counts the sealed values and blind indexes by key generation.
func Census(e *Engine, kr *seal.Keyring) (SealCensus, error) {
	out := SealCensus{Current: kr.KeyID(), Generations: map[byte]int{}, CurrentIndex: kr.IndexGeneration(), Indexes: map[byte]int{}, Tokens: map[byte]int{}}
	err := e.View(func(tx *bbolt.Tx) error {
		if err := tx.Bucket(BucketTokenHash).ForEach(func(h, _ []byte) error {
			if g, err := seal.BlindGeneration(string(h)); err == nil {
				out.Tokens[g]++
			}
			return nil
		}); err != nil {
			return err
		}
		if err := EachSealedRecord(tx, nil, func(_ int, _ []byte, rec any, fs []SealedField) error {
			if p, ok := rec.(*model.Person); ok {
				g, err := seal.BlindGeneration(p.IDBlind)
				if err != nil {
					return fmt.Errorf("core: person %s: %w", p.ID, err)
				}
				out.Indexes[g]++
			}
			for _, f := range fs {
				g, err := seal.KeyIDOf(*f.Val)
				if err != nil {
					return err
				}
				out.Generations[g]++
			}
			return nil
		}); err != nil {
			return err
		}
		b := tx.Bucket(bOutbox)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var m model.Message
			if err := decodeRecord(v, &m); err != nil {
				return err
			}
			if m.Kind != model.KindHandoverOffer {
				return nil
			}
			var offer HandoverOffer
			if err := json.Unmarshal(m.Body, &offer); err != nil {
				return fmt.Errorf("core: outbox %s/%d: %w", m.Dest, m.Seq, err)
			}
			if sub := offer.Handover.Subject; sub.NameSealed != "" || sub.IDSealed != "" || sub.DetailsSealed != "" {
				out.Waiting++
			}
			return nil
		})
	})
	return out, err
}

// ResealItem swaps one sealed value, if it still holds Old.
type ResealItem struct {
	Kind  string `json:"kind"`  // person, visit or handover
	Key   []byte `json:"key"`   // the record's key
	Field string `json:"field"` // name, id_number, special, note or details
	Old   string `json:"old"`
	New   string `json:"new"`
}

// ResealPayload is the payload of keys.reseal.
type ResealPayload struct {
	Items []ResealItem `json:"items"`
}

// ResealScan bounds the records one pass reads, so a pass over values
// already resealed stays short (a variable for tests).
var ResealScan = 20000

// reindex is the swap that moves a person's ID-number index to the current
// index key, or nil when it is there already.
func reindex(kr *seal.Keyring, p *model.Person) (*ResealItem, error) {
	g, err := seal.BlindGeneration(p.IDBlind)
	if err != nil || g == kr.IndexGeneration() {
		return nil, err
	}
	idn, err := kr.Open(p.IDSealed, "person/"+p.ID+"/id_number")
	if err != nil {
		return nil, fmt.Errorf("core: reindex person %q: %w", p.ID, err)
	}
	return &ResealItem{Kind: "person", Key: []byte(p.ID), Field: "id_blind", Old: p.IDBlind, New: kr.BlindIndex("id_number", string(idn))}, nil
}

// applyReseal checks every item before it swaps any, so a bad command
// changes nothing.
func applyReseal(t *txn, c *Command, p *ResealPayload) (any, error) {
	if len(p.Items) == 0 || len(p.Items) > MaxResealItems {
		return nil, errs.Invalid("items", "length", "a reseal carries 1 to %d items, not %d", MaxResealItems, len(p.Items))
	}
	for i, it := range p.Items {
		field := func(f string) string { return fmt.Sprintf("items[%d].%s", i, f) }
		kind := sealedKindNamed(it.Kind)
		if kind == nil {
			return nil, errs.Invalid(field("kind"), "enum", "kind must be person, visit or handover, not %q", it.Kind)
		}
		if it.Field == "id_blind" && kind.name == "person" {
			if _, err := seal.BlindGeneration(it.Old); err != nil {
				return nil, errs.Invalid(field("old"), "format", "not a blind index")
			}
			if _, err := seal.BlindGeneration(it.New); err != nil {
				return nil, errs.Invalid(field("new"), "format", "not a blind index")
			}
			continue
		}
		if _, err := seal.KeyIDOf(it.Old); err != nil {
			return nil, errs.Invalid(field("old"), "format", "not a sealed value")
		}
		if _, err := seal.KeyIDOf(it.New); err != nil {
			return nil, errs.Invalid(field("new"), "format", "not a sealed value")
		}
		if !slices.Contains(kind.fields, it.Field) {
			return nil, errs.Invalid(field("field"), "enum", "a %s holds no sealed field %q", it.Kind, it.Field)
		}
	}
	n := 0
	for _, it := range p.Items {
		kind := sealedKindNamed(it.Kind)
		v := t.b(kind.bucket).Get(it.Key)
		if v == nil {
			continue // gone since it was read
		}
		rec, fs, ok, err := kind.open(it.Key, v)
		if err != nil {
			return nil, err
		}
		if it.Field == "id_blind" {
			swapped, err := t.swapBlind(rec.(*model.Person), it.Old, it.New)
			if swapped {
				n++
			}
			if err != nil {
				return nil, err
			}
			continue
		}
		if f := fieldNamed(fs, it.Field); ok && f != nil && *f.Val == it.Old {
			*f.Val = it.New
			if err := t.putRecord(kind.bucket, it.Key, rec); err != nil {
				return nil, err
			}
			if string(kind.bucket) == string(BucketToken) {
				t.effect(func(e *Engine) { e.tokenGen.Add(1) }) // cached tokens hold the old seal
			}
			n++
		}
	}
	return n, nil
}

// swapBlind moves p's ID-number index from old to new, if p still holds
// old and no other person holds new. Another person under new would be the
// same ID number registered twice under two index keys: that swap is
// skipped, and the census keeps showing the old index.
func (t *txn) swapBlind(p *model.Person, old, new string) (bool, error) {
	if p.IDBlind != old {
		return false, nil
	}
	if other := t.b(BucketPersonBI).Get([]byte(new)); other != nil && string(other) != p.ID {
		return false, nil
	}
	if string(t.b(BucketPersonBI).Get([]byte(old))) == p.ID {
		if err := t.b(BucketPersonBI).Delete([]byte(old)); err != nil {
			return false, err
		}
	}
	if err := t.b(BucketPersonBI).Put([]byte(new), []byte(p.ID)); err != nil {
		return false, err
	}
	p.IDBlind = new
	return true, t.putRecord(bPerson, []byte(p.ID), p)
}

func fieldNamed(fs []SealedField, name string) *SealedField {
	for i := range fs {
		if fs[i].Name == name {
			return &fs[i]
		}
	}
	return nil
}

// ResealBatch finds, from the position after, the next values sealed under
// an older generation of kr, re-sealed under its current one: at most max
// items, or what fits a command. next is "" when the scan reached the end.
func (eng *Engine) ResealBatch(kr *seal.Keyring, after string, max int) (items []ResealItem, next string, err error) {
	from, err := parseResealPos(after)
	if err != nil {
		return nil, "", err
	}
	if max <= 0 || max > MaxResealItems {
		max = MaxResealItems
	}
	cur := kr.KeyID()
	var last *resealPos
	size, scanned := 0, 0
	err = eng.View(func(tx *bbolt.Tx) error {
		return EachSealedRecord(tx, from, func(kind int, k []byte, rec any, fs []SealedField) error {
			if scanned++; scanned > ResealScan {
				return errStop
			}
			var mine []ResealItem
			if p, ok := rec.(*model.Person); ok {
				item, err := reindex(kr, p)
				if err != nil {
					return err
				}
				if item != nil {
					mine = append(mine, *item)
				}
			}
			for _, f := range fs {
				g, err := seal.KeyIDOf(*f.Val)
				var plain []byte
				if err == nil && g != cur {
					plain, err = kr.Open(*f.Val, f.AAD)
				}
				if err != nil {
					return fmt.Errorf("core: reseal %s %q field %s: %w", sealedKinds[kind].name, k, f.Name, err)
				}
				if g == cur {
					continue
				}
				fresh, err := kr.Seal(plain, f.AAD)
				if err != nil {
					return err
				}
				mine = append(mine, ResealItem{Kind: sealedKinds[kind].name, Key: bytes.Clone(k), Field: f.Name, Old: *f.Val, New: fresh})
				size += len(k) + len(*f.Val) + len(fresh) + 64
			}
			// A record's values go in one pass, so the next starts after it;
			// large special-population details fill a command before max does.
			if len(items) > 0 && (len(items)+len(mine) > max || size > MaxCommandSize/2) {
				return errStop
			}
			items = append(items, mine...)
			last = &resealPos{kind: kind, key: bytes.Clone(k)}
			return nil
		})
	})
	switch err {
	case nil:
		last = nil // the scan reached the end
	case errStop:
	default:
		return nil, "", err
	}
	return items, last.String(), nil
}
