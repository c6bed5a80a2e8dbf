package core

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// TestLogsCarryNoSensitiveFields runs person operations, including rejected
// ones, with debug logging captured as JSON, and checks that no ID number,
// name, or special-population detail reaches the log.
func TestLogsCarryNoSensitiveFields(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dir := t.TempDir()
	e, err := state.OpenEngine(dir, state.EngineOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	s := New(e, state.NewLocal(e), Options{Keyring: testKeyring(t), Logger: log})
	defer s.Close()
	ctx := WithActor(context.Background(), "tester")
	if _, err := s.Jurisdictions.LoadCounty(ctx, "511083", 1); err != nil {
		t.Fatal(err)
	}
	idn, name, diag := idNumber(99), "欧阳秀英", "双相情感障碍"
	p, err := s.People.Add(ctx, model.PersonInput{Name: name, IDNumber: idn, Kind: "registered", Jurisdiction: "511083001001"})
	if err != nil {
		t.Fatal(err)
	}
	// Rejected at apply time (duplicate ID number): logged at debug.
	if _, err := s.People.Add(ctx, model.PersonInput{Name: name, IDNumber: idn, Kind: "registered", Jurisdiction: "511083001001"}); err == nil {
		t.Fatal("duplicate accepted")
	}
	risk := 4
	if _, err := s.People.SetSpecial(ctx, p.ID, model.SpecialInput{Category: model.SpecialMental, Level: 3, Since: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Details: model.SpecialDetails{Diagnosis: diag, RiskLevel: &risk, Guardian: "欧阳建"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.People.Reveal(ctx, p.ID, model.Purpose{Basis: model.BasisVisit, Text: "核查"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "command rejected") {
		t.Fatalf("expected the rejection to be logged; log was %q", out)
	}
	for _, secret := range []string{idn, idn[6:14], name, diag, "欧阳建"} {
		if strings.Contains(out, secret) {
			t.Fatalf("log contains %q", secret)
		}
	}
}
