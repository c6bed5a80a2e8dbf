package model

import "time"

// Change is one entry of the change feed: what one applied command changed
// about one record. The feed is ordered (Seq counts up from 1 with no gaps),
// replicated with the state, and bounded: the oldest entries go once it
// holds its retention. It carries kinds, ids, places and statuses, never a
// record's fields, so reading it reveals no personal details.
type Change struct {
	Seq     uint64    `json:"seq"`
	Index   uint64    `json:"index"`   // log index of the command
	Command string    `json:"command"` // the command type
	At      time.Time `json:"at"`      // the command's time
	Kind    string    `json:"kind"`    // ChangeEvent, ChangePerson, …
	ID      string    `json:"id"`
	Place   string    `json:"place,omitempty"` // where the record lies, for scope filtering
	Action  string    `json:"action"`          // what happened: an event action, "create", "update", …
	From    string    `json:"from,omitempty"`  // status before ("" for a new record)
	To      string    `json:"to,omitempty"`    // status after
}

// Kinds of record the change feed names.
const (
	ChangeEvent    = "event"
	ChangePerson   = "person"
	ChangeHouse    = "house"
	ChangeGrid     = "grid"
	ChangeWorker   = "worker"
	ChangeOrg      = "org"
	ChangeMember   = "member"
	ChangeActivity = "activity"
	ChangeCase     = "case"
	ChangeHandover = "handover"
)

// ChangePage is one read of the change feed, and the position to read on
// from.
type ChangePage struct {
	Changes []Change `json:"changes"`
	Next    uint64   `json:"next"` // the last seq read, or after when none
	Last    uint64   `json:"last"` // the newest seq in the feed
}
