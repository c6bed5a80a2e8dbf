package model

import "github.com/fengqiao/fengqiao/core/divisions"

// Jurisdiction is one administrative division (行政区划) in the store.
type Jurisdiction struct {
	Code      string         `json:"code"`
	Name      string         `json:"name"`
	Parent    string         `json:"parent,omitempty"`
	Tier      divisions.Tier `json:"tier"`
	HasBounds bool           `json:"has_bounds,omitempty"`
	Derived   bool           `json:"derived_bounds,omitempty"` // bounds were derived, not surveyed
}
