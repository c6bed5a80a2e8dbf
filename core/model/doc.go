// Package model is Fengqiao's domain as data, without storage: events and
// their transition table, grids, categories and SLAs, jurisdictions,
// party-building, residents and special populations (as stored, sealed, and
// as revealed), cross-region cases, handovers, figures and the kinds of
// message that cross between jurisdictions.
//
// It imports neither bbolt nor raft, so the plugin SDK, the console's
// server side and embedding programs can use it without the engine. The
// input rules (Check, Validate) live beside the types: services run them
// before a command is proposed.
package model
