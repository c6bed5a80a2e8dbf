package core

import (
	"path/filepath"
	"testing"

	"github.com/fengqiao/fengqiao/core/keyfile"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

func TestStoreAcrossKeyRotation(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	keys := filepath.Join(t.TempDir(), "keys.json")
	if err := keyfile.WriteNew(keys, ""); err != nil {
		t.Fatal(err)
	}
	open := func() *Store {
		s := New(e.Engine(), state.NewLocal(e.Engine()), Options{Keyring: mustKeyring(t, keys), Clock: e.clock.Now})
		t.Cleanup(func() { s.Close() })
		return s
	}
	add := func(s *Store, name string, n int) string {
		p, err := s.People.Add(e.ctx, model.PersonInput{Name: name, IDNumber: idNumber(n), Kind: "registered", Jurisdiction: "511083001001", Grid: "511083001001001"})
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	before := open()
	oldID := add(before, "王秀兰", 1)
	if _, err := keyfile.AddKey(keys); err != nil {
		t.Fatal(err)
	}
	if err := keyfile.UseKey(keys, 2); err != nil {
		t.Fatal(err)
	}
	after := open()
	newID := add(after, "李建华", 2)
	for id, want := range map[string]string{oldID: "王秀兰", newID: "李建华"} {
		r, err := after.People.Reveal(e.ctx, id, model.Purpose{Basis: model.BasisVisit, Text: "核实"})
		if err != nil || r.Name != want {
			t.Fatalf("reveal %s after rotation: %+v %v", id, r, err)
		}
	}
	for n, id := range map[int]string{1: oldID, 2: newID} {
		if p, err := after.People.FindByIDNumber(idNumber(n)); err != nil || p.ID != id {
			t.Fatalf("lookup of person %d after rotation: %v", n, err)
		}
	}
	// The store still on generation 1 alone cannot read the new person.
	if _, err := before.People.Reveal(e.ctx, newID, model.Purpose{Basis: model.BasisVisit, Text: "核实"}); err == nil {
		t.Fatal("a keyring without generation 2 revealed a person sealed with it")
	}
}
