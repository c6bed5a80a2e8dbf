package core

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/keyfile"

	"go.etcd.io/bbolt"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/seal"
	"github.com/fengqiao/fengqiao/core/state"
)

// rekey puts a store over e's engine that seals with the key file at path.
func rekey(t *testing.T, e *env, path string) {
	t.Helper()
	s := New(e.Engine(), e.rec, Options{Keyring: mustKeyring(t, path), Clock: e.clock.Now})
	t.Cleanup(func() { s.Close() })
	e.Store = s
}

func newKeyFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := keyfile.WriteNew(path, ""); err != nil {
		t.Fatal(err)
	}
	return path
}

func rotate(t *testing.T, path string) byte {
	t.Helper()
	id, err := keyfile.AddKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := keyfile.UseKey(path, id); err != nil {
		t.Fatal(err)
	}
	return id
}

func mustCensus(t *testing.T, s *Store) state.SealCensus {
	t.Helper()
	c, err := s.SealedCensus()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// resealAll runs passes of max until the state is covered, and returns how
// many values were swapped.
func resealAll(t *testing.T, e *env, max int) int {
	t.Helper()
	total, after := 0, ""
	for pass := 0; ; pass++ {
		if pass > 100 {
			t.Fatal("reseal does not finish")
		}
		r, err := e.Reseal(e.ctx, after, max)
		if err != nil {
			t.Fatal(err)
		}
		// A record's values go in one pass: at most two over max.
		if (max > 0 && r.Found > max+2) || r.Resealed != r.Found {
			t.Fatalf("pass %d: %+v (max %d)", pass, r, max)
		}
		total += r.Resealed
		if after = r.Next; after == "" {
			return total
		}
	}
}

// TestResealRetiresAnOldGeneration: after a rotation, resealing moves every
// sealed value (people, special details, visit notes, handovers on both
// sides) to the current generation, after which the old one leaves the key
// file and everything still opens. A waiting handover offer holds the old
// generation until it is delivered, and the census says so.
func TestResealRetiresAnOldGeneration(t *testing.T) {
	shares := []string{model.SharePersonIdentity, model.SharePersonDetails}
	from := fedEnv(t, "511083", model.Link{Peer: "500153", Relation: model.RelPeer, Share: shares})
	to := fedEnv(t, "500153", model.Link{Peer: "511083", Relation: model.RelPeer, Share: shares})
	fromKeys, toKeys := newKeyFile(t), newKeyFile(t)
	rekey(t, from, fromKeys)
	rekey(t, to, toKeys)

	names := map[string]string{}
	var people []string
	for i, name := range []string{"赵志强", "钱七", "孙丽"} {
		p, err := from.People.Add(from.ctx, model.PersonInput{Name: name, IDNumber: idNumber(800 + i), Kind: "registered", Jurisdiction: "511083001001", Grid: "511083001001001"})
		if err != nil {
			t.Fatal(err)
		}
		names[p.ID] = name
		people = append(people, p.ID)
	}
	since := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	if _, err := from.People.SetSpecial(from.ctx, people[0], model.SpecialInput{Category: model.SpecialCorrection, Level: 2, Since: since,
		Details: model.SpecialDetails{CorrectionType: "probation", TermStart: "2026-01-01", TermEnd: "2027-06-30", Offense: "盗窃罪"}}); err != nil {
		t.Fatal(err)
	}
	for i, note := range []string{"情况稳定", "", "家属在场"} {
		if _, err := from.People.RecordVisit(from.ctx, people[0], model.VisitInput{At: since.AddDate(0, 0, i+1), Visitor: "网格员李", Method: "home", Found: true, Note: note}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	delivered, err := from.Handovers.Open(from.ctx, people[0], "500153", deadline, "迁居綦江")
	if err != nil {
		t.Fatal(err)
	}
	pump(t, from, to)
	if _, err := from.Handovers.Open(from.ctx, people[1], "500153", deadline, "迁居"); err != nil {
		t.Fatal(err)
	}

	// 3 people × 2, one special record, two notes, and two outgoing
	// handovers (3 and 2 sealed fields).
	before := mustCensus(t, from.Store)
	if want := map[byte]int{1: 14}; !maps.Equal(before.Generations, want) || before.Current != 1 || before.Old() != 0 || before.Waiting != 1 ||
		!maps.Equal(before.Indexes, map[byte]int{0: 3}) || before.CurrentIndex != 0 {
		t.Fatalf("census before rotation: %+v", before)
	}
	if got, err := from.Reseal(from.ctx, "", 0); err != nil || got.Found != 0 || got.Next != "" {
		t.Fatalf("reseal with nothing old: %+v %v", got, err)
	}

	rotate(t, fromKeys)
	rekey(t, from, fromKeys)
	// Generation 2 brings its own index key too: 14 values and 3 indexes
	// are old.
	if c := mustCensus(t, from.Store); c.Current != 2 || c.CurrentIndex != 2 || c.Old() != 17 {
		t.Fatalf("census after rotation: %+v", c)
	}
	if p, err := from.People.FindByIDNumber(idNumber(800)); err != nil || p.ID != people[0] {
		t.Fatalf("lookup under the old index key before re-indexing: %v", err)
	}
	if _, err := from.People.Add(from.ctx, model.PersonInput{Name: "赵志强", IDNumber: idNumber(800), Kind: "registered", Jurisdiction: "511083001001"}); !errors.Is(err, errs.ErrConflict) || errs.Field(err) != "id_number" {
		t.Fatalf("registering someone indexed under the old key again: %v", err)
	}
	if n := resealAll(t, from, 4); n != 17 {
		t.Fatalf("resealed %d values and indexes, want 17", n)
	}
	after := mustCensus(t, from.Store)
	if want := map[byte]int{2: 14}; !maps.Equal(after.Generations, want) || !maps.Equal(after.Indexes, map[byte]int{2: 3}) || after.Old() != 0 || after.Waiting != 1 {
		t.Fatalf("census after reseal: %+v", after)
	}
	// The index holds each person once, under the new key only.
	var indexed []string
	from.Engine().View(func(tx *bbolt.Tx) error {
		return tx.Bucket(state.BucketPersonBI).ForEach(func(k, v []byte) error {
			if !strings.HasPrefix(string(k), "2:") {
				t.Errorf("index key %q left under the old index key", k)
			}
			indexed = append(indexed, string(v))
			return nil
		})
	})
	if slices.Sort(indexed); !slices.Equal(indexed, slices.Sorted(maps.Keys(names))) {
		t.Fatalf("index entries name %v, want %v", indexed, slices.Sorted(maps.Keys(names)))
	}
	// The waiting offer still carries generation 1: deliver it first.
	pump(t, from, to)
	if c := mustCensus(t, from.Store); c.Waiting != 0 {
		t.Fatalf("census after delivery: %+v", c)
	}
	// A pass reads a bounded number of records: over values already
	// resealed it finds nothing, and still says where to go on.
	defer func(n int) { state.ResealScan = n }(state.ResealScan)
	state.ResealScan = 2
	passes, from0 := 0, ""
	for ; passes == 0 || from0 != ""; passes++ {
		r, err := from.Reseal(from.ctx, from0, 0)
		if err != nil || r.Found != 0 {
			t.Fatalf("pass over resealed values: %+v %v", r, err)
		}
		from0 = r.Next
	}
	if passes != 4 { // 3 people, 3 visits, 2 handovers: 8 records, 2 a pass
		t.Fatalf("%d passes of 2 records over 8", passes)
	}
	state.ResealScan = 20000
	for _, bad := range []string{"!!", base64.RawURLEncoding.EncodeToString([]byte("event\x00x")), base64.RawURLEncoding.EncodeToString([]byte("person"))} {
		if _, err := from.Reseal(from.ctx, bad, 0); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "after" {
			t.Errorf("reseal after %q: %v", bad, err)
		}
	}
	if err := keyfile.RemoveKey(fromKeys, 1); err != nil {
		t.Fatal(err)
	}
	rekey(t, from, fromKeys)
	if from.keyring().Generations() != 1 || len(from.keyring().BlindIndexes("id_number", "x")) != 1 {
		t.Fatalf("%d generations, %d index keys after removal", from.keyring().Generations(), len(from.keyring().BlindIndexes("id_number", "x")))
	}
	if strings.Contains(string(fileBytes(t, fromKeys)), `"index":null`) || len(mustKeyFile(t, fromKeys).Index) != 0 {
		t.Fatal("the shared index key outlived the last generation that used it")
	}
	for id, name := range names {
		r, err := from.People.Reveal(from.ctx, id, model.Purpose{Basis: model.BasisVisit, Text: "核实"})
		if err != nil || r.Name != name {
			t.Fatalf("reveal %s with generation 2 alone: %+v %v", id, r, err)
		}
	}
	if p, err := from.People.FindByIDNumber(idNumber(801)); err != nil || p.ID != people[1] {
		t.Fatalf("lookup after removal: %v", err)
	}
	visits, _, err := from.People.Visits(people[0], "", 0)
	if err != nil || len(visits) != 3 {
		t.Fatalf("visits: %d %v", len(visits), err)
	}
	if got, err := from.keyring().Open(visits[2].NoteSealed, "person/"+people[0]+"/visit"); err != nil || string(got) != "家属在场" {
		t.Fatalf("visit note after removal: %q %v", got, err)
	}

	// The receiver sealed what arrived under its own keys and the
	// handover's id; it rotates and retires its generation 1 alone.
	rotate(t, toKeys)
	rekey(t, to, toKeys)
	if n := resealAll(t, to, 0); n != 5 {
		t.Fatalf("receiver resealed %d values, want 5", n)
	}
	if err := keyfile.RemoveKey(toKeys, 1); err != nil {
		t.Fatal(err)
	}
	rekey(t, to, toKeys)
	in, err := to.Handovers.Get(delivered.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := to.keyring().Open(in.Subject.NameSealed, "handover/"+in.ID+"/name"); err != nil || string(got) != "赵志强" {
		t.Fatalf("received name after removal: %q %v", got, err)
	}
	for _, e := range []*env{from, to} {
		if _, err := e.Engine().VerifyAudit(); err != nil {
			t.Fatal(err)
		}
	}
}

// A reseal command is checked item by item before anything is swapped: a
// bad one is a typed error naming the item and changes nothing. A value that
// changed since it was read is left alone.
func TestResealRefusesBadItems(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	keys := newKeyFile(t)
	rekey(t, e, keys)
	p, err := e.People.Add(e.ctx, model.PersonInput{Name: "王秀兰", IDNumber: idNumber(1), Kind: "registered", Jurisdiction: "511083001001"})
	if err != nil {
		t.Fatal(err)
	}
	rotate(t, keys)
	rekey(t, e, keys)
	fresh, err := e.keyring().Seal([]byte("王秀兰"), "person/"+p.ID+"/name")
	if err != nil {
		t.Fatal(err)
	}
	good := state.ResealItem{Kind: "person", Key: []byte(p.ID), Field: "name", Old: p.NameSealed, New: fresh}
	with := func(f func(*state.ResealItem)) []state.ResealItem {
		bad := good
		f(&bad)
		return []state.ResealItem{good, bad}
	}
	before := mustDigest(t, e.Engine())
	for _, c := range []struct {
		items []state.ResealItem
		field string
	}{
		{nil, "items"},
		{make([]state.ResealItem, state.MaxResealItems+1), "items"},
		{with(func(i *state.ResealItem) { i.Kind = "event" }), "items[1].kind"},
		{with(func(i *state.ResealItem) { i.Field = "description" }), "items[1].field"},
		{with(func(i *state.ResealItem) { i.New = "王秀兰" }), "items[1].new"},
		{with(func(i *state.ResealItem) { i.Old = "" }), "items[1].old"},
		{with(func(i *state.ResealItem) { i.Field, i.Old, i.New = "id_blind", "x", p.IDBlind }), "items[1].old"},
		{with(func(i *state.ResealItem) { i.Field, i.Old, i.New = "id_blind", p.IDBlind, "0:"+p.IDBlind }), "items[1].new"},
	} {
		_, err := e.apply(e.ctx, "keys.reseal", "", state.ResealPayload{Items: c.items})
		if !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != c.field {
			t.Errorf("%s: %v", c.field, err)
		}
	}
	if mustDigest(t, e.Engine()) != before {
		t.Fatal("a refused reseal changed the state")
	}
	// Someone sealed a new name in between: the stale swap is skipped.
	stale := good
	stale.Old = fresh
	if n, err := applyAs[int](e.ctx, e.Store, "keys.reseal", "", state.ResealPayload{Items: []state.ResealItem{stale}}); err != nil || n != 0 {
		t.Fatalf("stale swap: %d %v", n, err)
	}
	if got, _ := e.People.Get(p.ID); got.NameSealed != p.NameSealed {
		t.Fatal("a stale swap replaced the value")
	}

	// A node whose keyring lacks the old generation cannot reseal, says
	// which value, and proposes nothing.
	if err := keyfile.RemoveKey(keys, 1); err != nil {
		t.Fatal(err)
	}
	rekey(t, e, keys)
	before = mustDigest(t, e.Engine())
	if _, err := e.Reseal(e.ctx, "", 0); !errors.Is(err, errs.ErrNotFound) || errs.Field(err) != "sealed" {
		t.Fatalf("reseal without the old key: %v", err)
	}
	if mustDigest(t, e.Engine()) != before {
		t.Fatal("a failed reseal changed the state")
	}
}

func TestRemoveKeyRefusesBadInput(t *testing.T) {
	for _, suite := range []seal.Suite{seal.AES256GCM, seal.SM4GCM} {
		path := filepath.Join(t.TempDir(), "keys.json")
		if err := keyfile.WriteNew(path, suite); err != nil {
			t.Fatal(err)
		}
		rotate(t, path)
		before := fileBytes(t, path)
		if err := keyfile.RemoveKey(path, 2); !errors.Is(err, errs.ErrConflict) || errs.Field(err) != "id" {
			t.Errorf("%s: removing the current generation: %v", suite, err)
		}
		if err := keyfile.RemoveKey(path, 7); !errors.Is(err, errs.ErrNotFound) || errs.Field(err) != "id" {
			t.Errorf("%s: removing a generation the file lacks: %v", suite, err)
		}
		if string(fileBytes(t, path)) != string(before) {
			t.Fatalf("%s: a refused removal changed the file", suite)
		}
		if err := keyfile.RemoveKey(path, 1); err != nil {
			t.Fatal(err)
		}
		if info, err := keyfile.Describe(path); err != nil || len(info.IDs) != 1 || info.IDs[0] != 2 || info.Current != 2 {
			t.Fatalf("%s: after removal: %+v %v", suite, info, err)
		}
	}
}

func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// BenchmarkReseal: resealing a county's people after a rotation, through
// the store (scan, open, seal, re-index, propose in commands of 500, durable
// apply), against opening, sealing and indexing the same values in memory in
// the same run.
// Each iteration rotates again and reseals everything.
//
//	go test ./core/ -run '^$' -bench Reseal -benchtime 3x
func BenchmarkReseal(b *testing.B) {
	const people = 5000
	e := newEnv(b, true)
	e.withCounty(b)
	path := filepath.Join(b.TempDir(), "keys.json")
	if err := keyfile.WriteNew(path, ""); err != nil {
		b.Fatal(err)
	}
	open := func() {
		kr, err := keyfile.Read(path)
		if err != nil {
			b.Fatal(err)
		}
		s := New(e.Engine(), e.rec, Options{Keyring: kr, Clock: e.clock.Now})
		b.Cleanup(func() { s.Close() })
		e.Store = s
	}
	open()
	for i := 0; i < people; i++ {
		if _, err := e.People.Add(e.ctx, model.PersonInput{Name: "王秀兰", IDNumber: idNumber(i), Kind: "registered", Jurisdiction: "511083001001"}); err != nil {
			b.Fatal(err)
		}
	}
	var store, memory time.Duration
	values := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		id, err := keyfile.AddKey(path)
		if err == nil {
			err = keyfile.UseKey(path, id)
		}
		if err != nil {
			b.Fatal(err)
		}
		open()
		var tokens []state.SealedField
		e.Engine().View(func(tx *bbolt.Tx) error {
			return state.EachSealedRecord(tx, nil, func(_ int, _ []byte, _ any, fs []state.SealedField) error {
				for _, f := range fs {
					tokens = append(tokens, state.SealedField{Name: f.Name, Val: ptr(*f.Val), AAD: f.AAD})
				}
				return nil
			})
		})
		b.StartTimer()
		t0 := time.Now()
		for after := ""; ; {
			r, err := e.Reseal(e.ctx, after, 0)
			if err != nil {
				b.Fatal(err)
			}
			values += r.Resealed
			if after = r.Next; after == "" {
				break
			}
		}
		store += time.Since(t0)
		t0 = time.Now()
		for _, f := range tokens {
			plain, err := e.keyring().Open(*f.Val, f.AAD)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := e.keyring().Seal(plain, f.AAD); err != nil {
				b.Fatal(err)
			}
			if f.Name == "id_number" {
				e.keyring().BlindIndex("id_number", string(plain))
			}
		}
		memory += time.Since(t0)
	}
	if values != b.N*3*people { // name, ID number, and the ID number's index
		b.Fatalf("resealed %d values, want %d", values, b.N*3*people)
	}
	b.ReportMetric(float64(values)/store.Seconds(), "values/s")
	b.ReportMetric(float64(values)/memory.Seconds(), "in-memory-values/s")
	b.ReportMetric(memory.Seconds()/store.Seconds(), "x-in-memory")
}

func ptr[T any](v T) *T { return &v }

// mustKeyFile reads the shared index key a key file holds, if any.
func mustKeyFile(t *testing.T, path string) struct{ Index []byte } {
	t.Helper()
	var kf struct {
		Index []byte `json:"index"`
	}
	if err := json.Unmarshal(fileBytes(t, path), &kf); err != nil {
		t.Fatal(err)
	}
	return struct{ Index []byte }{kf.Index}
}

// A backup taken before a generation was removed holds values the node can
// no longer open: the check names what is missing, and passes once the
// backup needs nothing the keyring lacks.
func TestCheckBackupKeys(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	keys := newKeyFile(t)
	rekey(t, e, keys)
	if _, err := e.People.Add(e.ctx, model.PersonInput{Name: "王秀兰", IDNumber: idNumber(1), Kind: "registered", Jurisdiction: "511083001001"}); err != nil {
		t.Fatal(err)
	}
	backup := func() string {
		path := filepath.Join(t.TempDir(), "backup.db")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Engine().Snapshot(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
		return path
	}
	old := backup()
	if err := e.CheckBackupKeys(old); err != nil {
		t.Fatalf("a backup under the keys in use: %v", err)
	}
	rotate(t, keys)
	rekey(t, e, keys)
	resealAll(t, e, 0)
	kept := fileBytes(t, keys) // what operations.md says to keep with old backups
	if err := keyfile.RemoveKey(keys, 1); err != nil {
		t.Fatal(err)
	}
	rekey(t, e, keys)
	err := e.CheckBackupKeys(old)
	if !errors.Is(err, errs.ErrConflict) || errs.Field(err) != "keys" || !strings.Contains(err.Error(), "generation 1 (2 values)") || !strings.Contains(err.Error(), "index key 0 (1 people)") {
		t.Fatalf("a backup from before the removal: %v", err)
	}
	if err := e.CheckBackupKeys(backup()); err != nil {
		t.Fatalf("a backup taken now: %v", err)
	}
	// Putting the generation back, as operations.md describes (its entry,
	// in id order, and the shared index key it used), lets the old backup in.
	var was, now map[string]json.RawMessage
	var wasKeys, nowKeys []json.RawMessage
	if json.Unmarshal(kept, &was) != nil || json.Unmarshal(fileBytes(t, keys), &now) != nil ||
		json.Unmarshal(was["keys"], &wasKeys) != nil || json.Unmarshal(now["keys"], &nowKeys) != nil {
		t.Fatal("key files are not JSON")
	}
	now["keys"], _ = json.Marshal(append([]json.RawMessage{wasKeys[0]}, nowKeys...))
	now["index"] = was["index"]
	merged, _ := json.Marshal(now)
	if err := os.WriteFile(keys, merged, 0o600); err != nil {
		t.Fatal(err)
	}
	rekey(t, e, keys)
	if err := e.CheckBackupKeys(old); err != nil {
		t.Fatalf("the old backup after putting generation 1 back: %v", err)
	}
	garbage := filepath.Join(t.TempDir(), "garbage.db")
	os.WriteFile(garbage, []byte("not a state file"), 0o600)
	if err := e.CheckBackupKeys(garbage); err == nil {
		t.Fatal("a file that is no backup passed the check")
	}
}
