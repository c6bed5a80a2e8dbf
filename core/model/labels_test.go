package model

import (
	"errors"
	"strings"
	"testing"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Every code a list names has its label.
func TestEveryCodeHasALabel(t *testing.T) {
	for _, s := range Statuses {
		if _, ok := StatusLabels[s]; !ok {
			t.Errorf("status %s", s)
		}
	}
	for _, lists := range []struct {
		codes  []string
		labels map[string]string
	}{{Urgencies, UrgencyLabels}, {Sources, SourceLabels}, {ResidentKinds, ResidentKindLabels}, {HouseUses, HouseUseLabels}, {Satisfactions, SatisfactionLabels}} {
		for _, c := range lists.codes {
			if _, ok := lists.labels[c]; !ok {
				t.Errorf("code %s has no label", c)
			}
		}
	}
	if Label(UrgencyLabels, "unknown") != "unknown" {
		t.Error("an unknown code does not show as itself")
	}
}

// A description is bounded in characters for new reports: 4,000 Chinese
// characters pass, one more does not, and an empty one is still refused.
func TestDescriptionBoundInCharacters(t *testing.T) {
	r := Report{Category: "dispute", Jurisdiction: "511083", Description: strings.Repeat("纠", MaxDescription)}
	if err := r.CheckInput(); err != nil {
		t.Fatalf("4,000 characters: %v", err)
	}
	if r.Check() == nil {
		t.Fatal("old commands' byte bound no longer holds")
	}
	r.Description += "纠"
	if err := r.CheckInput(); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "description" {
		t.Fatalf("4,001 characters: %v", err)
	}
	r.Description = ""
	if err := r.CheckInput(); errs.Field(err) != "description" {
		t.Fatalf("empty: %v", err)
	}
}
