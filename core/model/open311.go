package model

import (
	"slices"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Open311Config is what a jurisdiction lets anyone read through Open311
// without a key: the requests of the services it names (status, category,
// time, place and description; never who reported). The default names
// none: GeoReport v2 assumes public reads, but a 综治中心's events are not
// public unless it says so.
type Open311Config struct {
	PublicServices []string `json:"public_services"`
}

// Check requires known, distinct service codes.
func (c *Open311Config) Check(known func(code string) bool) error {
	seen := map[string]bool{}
	for _, s := range c.PublicServices {
		if !known(s) {
			return errs.Invalid("public_services", "enum", "unknown service %q", s)
		}
		if seen[s] {
			return errs.Invalid("public_services", "duplicate", "%q is named twice", s)
		}
		seen[s] = true
	}
	slices.Sort(c.PublicServices)
	return nil
}

// Public reports whether anyone may read a service's requests.
func (c *Open311Config) Public(code string) bool { return slices.Contains(c.PublicServices, code) }
