package model

import "testing"

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
