package core

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/keyfile"
	"github.com/fengqiao/fengqiao/internal/tarball"

	"github.com/fengqiao/fengqiao/core/model"
)

// fixtureV1 is a small embedded store written by the code before issue 22
// changed the package layout and the record format: its state file holds
// format-1 records, and its audit chain the format-1 commands that made
// them. Every later version must open it, verify it and replay it. Never
// regenerate it; a later format gets a fixture of its own beside it.
const fixtureV1 = "testdata/v1/store.tar.gz"

// fixtureExpect is what the fixture's writer read back from the store, in
// the API's own terms, so the check does not depend on how it is stored.
type fixtureExpect struct {
	Figures model.Figures     `json:"figures"`
	Events  map[string]string `json:"events"` // id → status/rev
	People  int               `json:"people"`
	Records uint64            `json:"records"` // audit records
}

func TestFixtureV1OpensVerifiesAndReplays(t *testing.T) {
	if os.Getenv("FENGQIAO_WRITE_FIXTURES") != "" {
		writeFixtureV1(t)
	}
	dir := t.TempDir()
	if err := tarball.Unpack(fixtureV1, dir); err != nil {
		t.Fatal(err)
	}
	var want fixtureExpect
	raw, err := os.ReadFile(filepath.Join(dir, "expect.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	kr, err := keyfile.Read(filepath.Join(dir, "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rep, err := s.Engine().VerifyAudit()
	if err != nil {
		t.Fatalf("verify the v1 audit chain: %v", err)
	}
	if rep.Records != want.Records {
		t.Fatalf("v1 chain: %d records, the writer saw %d", rep.Records, want.Records)
	}
	// Replaying the v1 commands under today's code rebuilds the same state.
	if err := s.Engine().VerifyState(t.TempDir(), nil); err != nil {
		t.Fatalf("replay the v1 commands: %v", err)
	}
	got := readFixture(t, s)
	if !reflect.DeepEqual(got.Figures, want.Figures) {
		t.Fatalf("figures:\n got  %+v\n want %+v", got.Figures, want.Figures)
	}
	if !reflect.DeepEqual(got.Events, want.Events) || got.People != want.People {
		t.Fatalf("events or people differ: got %d events, %d people; want %d, %d", len(got.Events), got.People, len(want.Events), want.People)
	}
	// And it takes new commands.
	if _, err := s.Events.Report(WithActor(t.Context(), "tester"), model.Report{Category: "dispute", Description: "升级后", Jurisdiction: "511083001001"}); err != nil {
		t.Fatalf("report into the v1 store: %v", err)
	}
}

func readFixture(t *testing.T, s *Store) fixtureExpect {
	t.Helper()
	var x fixtureExpect
	var err error
	if x.Figures, err = s.Events.Figures("511083", "", ""); err != nil {
		t.Fatal(err)
	}
	x.Events = map[string]string{}
	for after := ""; ; {
		p, err := s.Events.List(model.Query{Jurisdiction: "511083", After: after, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range p.Events {
			tl, err := s.Events.Timeline(ev.ID)
			if err != nil || len(tl) != ev.Rev {
				t.Fatalf("timeline of %s: %d entries, rev %d, %v", ev.ID, len(tl), ev.Rev, err)
			}
			x.Events[ev.ID] = string(ev.Status) + "/" + strconv.Itoa(ev.Rev)
		}
		if after = p.Next; after == "" {
			break
		}
	}
	for after := ""; ; {
		ps, next, err := s.People.List("511083", after, 500)
		if err != nil {
			t.Fatal(err)
		}
		x.People += len(ps)
		if after = next; after == "" {
			break
		}
	}
	return x
}

// writeFixtureV1 writes the fixture from today's code, once: it refuses to
// replace one that exists.
func writeFixtureV1(t *testing.T) {
	if _, err := os.Stat(fixtureV1); err == nil {
		t.Fatalf("%s exists; fixtures are never rewritten", fixtureV1)
	}
	dir := t.TempDir()
	if err := keyfile.WriteNew(filepath.Join(dir, "keys.json"), ""); err != nil {
		t.Fatal(err)
	}
	kr, err := keyfile.Read(filepath.Join(dir, "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{now: time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC), step: time.Second}
	s, err := Open(dir, Options{Keyring: kr, Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{Store: s, dir: dir, clock: clk, rec: &recorder{}, ctx: WithActor(t.Context(), "tester")}
	e.withCounty(t)
	randomWorkload(t, e, 400, 22)
	if _, _, err := s.Tokens.Create(e.ctx, "值班员", "township_operator", "511083001", ""); err != nil {
		t.Fatal(err)
	}
	x := readFixture(t, s)
	rep, err := s.Engine().VerifyAudit()
	if err != nil {
		t.Fatal(err)
	}
	x.Records = rep.Records
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.MarshalIndent(x, "", " ")
	if err := os.WriteFile(filepath.Join(dir, "expect.json"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(fixtureV1), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := tarball.Pack(fixtureV1, dir, "state.db", "keys.json", "expect.json"); err != nil {
		t.Fatal(err)
	}
}
