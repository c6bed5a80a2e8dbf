package core

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/seal"
	"github.com/fengqiao/fengqiao/core/state"
)

func TestSensitiveFieldsNeverStoredInTheClear(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	idn := idNumber(4242)
	name := "王秀兰"
	p, err := e.People.Add(e.ctx, model.PersonInput{Name: name, IDNumber: idn, Kind: "registered", Jurisdiction: "511083001001", Grid: "511083001001001"})
	if err != nil {
		t.Fatal(err)
	}
	if p.IDMasked != idn[:4]+"**********"+idn[14:] || p.NameMasked != "王**" {
		t.Fatalf("masks: %q %q", p.IDMasked, p.NameMasked)
	}
	risk := 3
	secretDiag := "偏执型精神分裂症"
	if _, err := e.People.SetSpecial(e.ctx, p.ID, model.SpecialInput{Category: model.SpecialMental, Level: 3, Since: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Details: model.SpecialDetails{Diagnosis: secretDiag, RiskLevel: &risk, Guardian: "王建国"}}); err != nil {
		t.Fatal(err)
	}
	secretNote := "服药依从性差"
	if _, err := e.People.RecordVisit(e.ctx, p.ID, model.VisitInput{At: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Visitor: "网格员李", Method: "home", Found: true, Note: secretNote}); err != nil {
		t.Fatal(err)
	}
	// Exact lookup works through the blind index.
	if got, err := e.People.FindByIDNumber(idn); err != nil || got.ID != p.ID {
		t.Fatalf("blind-index lookup: %v", err)
	}
	// Reveal decrypts and audits the read.
	before, _ := e.Engine().VerifyAudit()
	r, err := e.People.Reveal(e.ctx, p.ID, model.Purpose{Basis: model.BasisVisit, Text: "走访核实"})
	if err != nil || r.IDNumber != idn || r.Name != name || r.Details.Diagnosis != secretDiag {
		t.Fatalf("reveal: %+v %v", r, err)
	}
	after, _ := e.Engine().VerifyAudit()
	last, _ := e.Engine().AuditPage(after.Records-1, 1)
	if after.Records != before.Records+1 || !bytes.Contains(last[0].Command, []byte(`"audit.read"`)) {
		t.Fatal("reading sensitive details did not add an audit record")
	}
	var snap bytes.Buffer
	if _, err := e.Engine().Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	e.Close()
	file, err := os.ReadFile(filepath.Join(e.dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	for _, d := range e.rec.data {
		log.Write(d)
	}
	for where, blob := range map[string][]byte{"state file": file, "snapshot": snap.Bytes(), "command log": log.Bytes()} {
		for _, secret := range []string{idn, idn[6:14] + idn[14:17], name, secretDiag, secretNote, "王建国"} {
			if bytes.Contains(blob, []byte(secret)) {
				t.Errorf("%s contains plaintext %q", where, secret)
			}
		}
	}
}

func TestPersonBadInput(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	p, err := e.People.Add(e.ctx, model.PersonInput{Name: "张三", IDNumber: idNumber(1), Kind: "floating", Jurisdiction: "511083001001"})
	if err != nil {
		t.Fatal(err)
	}
	before := mustDigest(t, e.Engine())
	bad := idNumber(2)
	bad = bad[:17] + map[byte]string{'0': "1"}[bad[17]] + map[bool]string{true: "", false: "0"}[bad[17] == '0']
	cases := []struct {
		in    model.PersonInput
		field string
		rule  string
	}{
		{model.PersonInput{Name: "李四", IDNumber: "123", Kind: "registered", Jurisdiction: "511083001001"}, "id_number", "length"},
		{model.PersonInput{Name: "李四", IDNumber: bad, Kind: "registered", Jurisdiction: "511083001001"}, "id_number", "check_digit"},
		{model.PersonInput{Name: "李四", IDNumber: idNumber(1), Kind: "registered", Jurisdiction: "511083001001"}, "id_number", "exists"},
		{model.PersonInput{Name: "李四", IDNumber: idNumber(3), Kind: "tourist", Jurisdiction: "511083001001"}, "kind", "enum"},
		{model.PersonInput{Name: "李四", IDNumber: idNumber(3), Kind: "registered", Jurisdiction: "511083"}, "jurisdiction", "not_found"},
		{model.PersonInput{Name: "", IDNumber: idNumber(3), Kind: "registered", Jurisdiction: "511083001001"}, "name", "required"},
	}
	for i, c := range cases {
		_, err := e.People.Add(e.ctx, c.in)
		var fe *errs.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || fe.Rule != c.rule {
			t.Errorf("case %d: want %s/%s, got %v", i, c.field, c.rule, err)
		}
	}
	_, err = e.People.SetSpecial(e.ctx, p.ID, model.SpecialInput{Category: model.SpecialCorrection, Level: 2, Since: time.Now(),
		Details: model.SpecialDetails{CorrectionType: "probation", TermStart: "2026-01-01", TermEnd: "2025-01-01"}})
	if errs.Field(err) != "details.term_end" {
		t.Fatalf("term order: %v", err)
	}
	_, err = e.People.SetSpecial(e.ctx, p.ID, model.SpecialInput{Category: model.SpecialMental, Level: 2, Since: time.Now(), Details: model.SpecialDetails{Guardian: "x"}})
	if errs.Field(err) != "details.risk_level" {
		t.Fatalf("missing risk level: %v", err)
	}
	if _, err := e.People.RecordVisit(e.ctx, p.ID, model.VisitInput{At: time.Now(), Visitor: "x", Method: "home"}); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("visit to a non-special person: %v", err)
	}
	if after := mustDigest(t, e.Engine()); after != before {
		t.Fatal("rejected input changed the state")
	}
}

func TestVisitsDueAlertsAndLostContact(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	p, _ := e.People.Add(e.ctx, model.PersonInput{Name: "赵六", IDNumber: idNumber(7), Kind: "registered", Jurisdiction: "511083001001", Grid: "511083001001001"})
	since := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	got, err := e.People.SetSpecial(e.ctx, p.ID, model.SpecialInput{Category: model.SpecialCorrection, Level: 3, Since: since,
		Details: model.SpecialDetails{CorrectionType: "probation", TermStart: "2026-10-01", TermEnd: "2027-10-01"}, Team: []string{"司法所王", "网格员李"}})
	if err != nil {
		t.Fatal(err)
	}
	// Level 3 community correction: every 7 days.
	if want := since.AddDate(0, 0, 7); !got.Special.NextDue.Equal(want) {
		t.Fatalf("next due %s, want %s", got.Special.NextDue, want)
	}
	due, _ := e.People.DueVisits("511083", time.Date(2026, 10, 9, 0, 0, 0, 0, time.UTC), 10)
	if len(due) != 1 {
		t.Fatalf("due: %d", len(due))
	}
	if due, _ := e.People.DueVisits("500110", time.Date(2026, 10, 9, 0, 0, 0, 0, time.UTC), 10); len(due) != 0 {
		t.Fatal("due list leaked another county")
	}
	if _, err := e.People.RecordVisit(e.ctx, p.ID, model.VisitInput{At: time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC), Visitor: "网格员李", Method: "home", Found: true}); err != nil {
		t.Fatal(err)
	}
	if due, _ := e.People.DueVisits("511083", time.Date(2026, 10, 9, 0, 0, 0, 0, time.UTC), 10); len(due) != 0 {
		t.Fatal("a visit did not move the due date")
	}
	// The clock is now late November: the visit (due 10-12) is overdue.
	n, err := e.People.SweepVisits(e.ctx, e.clock.Now())
	if err != nil || n != 1 {
		t.Fatalf("visit alerts: %d %v", n, err)
	}
	if n, _ := e.People.SweepVisits(e.ctx, e.clock.Now()); n != 0 {
		t.Fatal("alert opened twice for one cycle")
	}
	ev, err := e.People.MarkContact(e.ctx, p.ID, model.ContactLost, "电话不通")
	if err != nil || ev == nil || ev.Category != "special_population" || ev.Grid != "511083001001001" {
		t.Fatalf("lost contact event: %+v %v", ev, err)
	}
	if bytes.Contains([]byte(ev.Description), []byte("赵六")) {
		t.Fatal("the alert event names the person")
	}
	if _, err := e.People.MarkContact(e.ctx, p.ID, model.ContactLost, ""); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("marking twice: %v", err)
	}
	f, _ := e.Events.Figures("511083", "", "special_population")
	if f.Reported != 2 {
		t.Fatalf("special-population events: %d", f.Reported)
	}
	vs, _, _ := e.People.Visits(p.ID, "", 0)
	if len(vs) != 1 || vs[0].Seq != 1 {
		t.Fatalf("visits: %+v", vs)
	}
}

func TestSM4StoreEndToEnd(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Cipher: seal.SM4GCM, Engine: state.EngineOptions{NoSync: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.keyring().Suite() != seal.SM4GCM {
		t.Fatalf("suite %s", s.keyring().Suite())
	}
	ctx := WithActor(context.Background(), "tester")
	if _, err := s.Jurisdictions.LoadCounty(ctx, "511083", 1); err != nil {
		t.Fatal(err)
	}
	idn := idNumber(31)
	p, err := s.People.Add(ctx, model.PersonInput{Name: "陈国密", IDNumber: idn, Kind: "registered", Jurisdiction: "511083001001"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.People.Reveal(ctx, p.ID, model.Purpose{Basis: model.BasisVisit, Text: "核查"})
	if err != nil || r.IDNumber != idn || r.Name != "陈国密" {
		t.Fatalf("SM4 round trip: %+v %v", r, err)
	}
	// A key file was generated beside the data, private to the owner.
	st, err := os.Stat(filepath.Join(dir, "keys.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
}

func TestKnownRegion(t *testing.T) {
	for code, want := range map[string]bool{
		"511083": true,  // current county
		"511028": true,  // retired, aliased
		"500222": true,  // an old Chongqing county code (綦江县), municipality 02
		"510199": true,  // under a known city
		"990101": false, // no such province
		"519999": false, // no city 5199 in 四川
	} {
		if got := state.KnownRegion(code); got != want {
			t.Errorf("knownRegion(%s) = %v, want %v", code, got, want)
		}
	}
}

func TestPeoplePaging(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	for i := 0; i < 7; i++ {
		if _, err := e.People.Add(e.ctx, model.PersonInput{Name: "居民", IDNumber: idNumber(100 + i), Kind: "registered", Jurisdiction: "511083001001"}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	after, pages := "", 0
	for {
		ps, next, err := e.People.List("511083001", after, 3)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, p := range ps {
			if seen[p.ID] {
				t.Fatalf("%s listed twice", p.ID)
			}
			seen[p.ID] = true
		}
		if next == "" {
			break
		}
		after = next
	}
	if len(seen) != 7 || pages != 3 {
		t.Fatalf("%d people in %d pages", len(seen), pages)
	}
	if _, _, err := e.People.List("511083001", "@@", 3); errs.Field(err) != "cursor" {
		t.Fatalf("bad cursor: %v", err)
	}
}
