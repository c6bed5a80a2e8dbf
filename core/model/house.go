package model

import (
	"slices"
	"unicode/utf8"

	"github.com/fengqiao/fengqiao/core/errs"
)

// House is a dwelling or other building in a village or community (实有房屋).
// Residents name it (Person.House); it is retired, not deleted, so the
// people and events that once named it still resolve.
type House struct {
	ID           string `json:"id"`
	Address      string `json:"address"`
	Jurisdiction string `json:"jurisdiction"`
	Grid         string `json:"grid,omitempty"`
	// Use is what the building is used for (房屋用途, GB/T 31000).
	Use string `json:"use,omitempty"`
	// Rented marks a house let to tenants (出租房屋), whose residents are
	// visited more often.
	Rented bool `json:"rented,omitempty"`
	// Status is "" while in use, HouseRetired after.
	Status string `json:"status,omitempty"`
	Reason string `json:"retired_reason,omitempty"`
}

// HouseRetired is the status of a house taken out of use (demolished,
// merged, surveyed again).
const HouseRetired = "retired"

// HouseUses lists the uses a house may have: 住宅, 商业, 办公, 工业, 仓储,
// 商住混用, 其他.
var HouseUses = []string{"residential", "commercial", "office", "industrial", "warehouse", "mixed", "other"}

// MaxAddress bounds a house's address, in bytes.
const MaxAddress = 500

// Place is the most specific code the house lies at.
func (h *House) Place() string { return PlaceOf(h.Jurisdiction, h.Grid) }

// CheckHouse checks a house's own fields: the rules that need no state.
func CheckHouse(h *House) error {
	if err := CheckID("id", h.ID); err != nil {
		return err
	}
	if h.Address == "" || len(h.Address) > MaxAddress || !utf8.ValidString(h.Address) {
		return errs.Invalid("address", "required", "address must be valid text of 1..%d bytes", MaxAddress)
	}
	if h.Jurisdiction == "" {
		return errs.Invalid("jurisdiction", "required", "name the village/community the house lies in")
	}
	if h.Use != "" && !slices.Contains(HouseUses, h.Use) {
		return errs.Invalid("use", "enum", "use must be one of %v", HouseUses)
	}
	if h.Status != "" {
		return errs.Invalid("status", "read_only", "a house is retired with its own request, not by setting its status")
	}
	return nil
}

// HousePatch changes some of a house's fields; nil leaves one as it is.
type HousePatch struct {
	Address *string `json:"address,omitempty"`
	Grid    *string `json:"grid,omitempty"`
	Use     *string `json:"use,omitempty"`
	Rented  *bool   `json:"rented,omitempty"`
}

// Apply returns h with the patch's fields set.
func (p HousePatch) Apply(h House) House {
	if p.Address != nil {
		h.Address = *p.Address
	}
	if p.Grid != nil {
		h.Grid = *p.Grid
	}
	if p.Use != nil {
		h.Use = *p.Use
	}
	if p.Rented != nil {
		h.Rented = *p.Rented
	}
	return h
}
