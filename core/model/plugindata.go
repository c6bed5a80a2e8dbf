package model

import (
	"encoding/json"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Bounds of plugin state.
const (
	MaxPluginValue = 64 << 10
	MaxPluginKey   = 200
)

// PluginRecord is one value a plugin keeps in replicated state: in a
// collection of its own, in one jurisdiction it serves. A plugin writes
// only through the commands it returns (PluginCommand), so its state is
// replicated and audited like every other record.
type PluginRecord struct {
	Plugin       string          `json:"plugin"`
	Jurisdiction string          `json:"jurisdiction"`
	Collection   string          `json:"collection"`
	Key          string          `json:"key"`
	Value        json.RawMessage `json:"value,omitempty"`
	UpdatedAt    time.Time       `json:"updated_at"`
	UpdatedBy    string          `json:"updated_by"`
}

// Place is where the record lies, for scope.
func (r *PluginRecord) Place() string { return r.Jurisdiction }

// Check applies the input rules of a record (Value may be empty: a delete).
func (r *PluginRecord) Check() error {
	if err := CheckPluginName(r.Plugin); err != nil {
		return err
	}
	if !ValidCode(r.Jurisdiction) {
		return errs.Invalid("jurisdiction", "format", "plugin %s: %q is not a division code", r.Plugin, r.Jurisdiction)
	}
	if err := CheckID("collection", r.Collection); err != nil {
		return err
	}
	if r.Key == "" || len(r.Key) > MaxPluginKey {
		return errs.Invalid("key", "length", "plugin %s: a key is 1..%d bytes", r.Plugin, MaxPluginKey)
	}
	for _, c := range r.Key {
		if c < 0x20 || c == 0x7f || c == '/' {
			return errs.Invalid("key", "format", "plugin %s: a key holds no control characters or /", r.Plugin)
		}
	}
	if len(r.Value) > MaxPluginValue || len(r.Value) > 0 && !json.Valid(r.Value) {
		return errs.Invalid("value", "json", "plugin %s: a value is one JSON value of at most %d bytes", r.Plugin, MaxPluginValue)
	}
	return nil
}

// Operations a plugin may return from OnTransition or a job.
const (
	OpPut    = "put"    // write a record of its own
	OpDelete = "delete" // delete a record of its own
	OpReport = "report" // open an event (source plugin)
	OpAct    = "act"    // act on an event: comment or supervise
)

// PluginCommand is what a plugin asks the host to propose. The host fills
// in the plugin's name and checks the jurisdiction against those the plugin
// serves; a command outside them is refused with a reason naming the plugin.
type PluginCommand struct {
	Op string `json:"op"`
	// Seq is the change an OnTransition command answers (the SDK fills it
	// in): its idempotency key derives from it, so a change delivered twice
	// has its commands applied once.
	Seq uint64 `json:"seq,omitempty"`
	// ID, when set, is the plugin's own idempotency key for the command
	// (say missed-2026-12-07-<grid>): the same id twice is applied once,
	// whenever and from wherever it comes.
	ID           string          `json:"id,omitempty"`
	Collection   string          `json:"collection,omitempty"`   // put, delete
	Jurisdiction string          `json:"jurisdiction,omitempty"` // put, delete
	Key          string          `json:"key,omitempty"`          // put, delete
	Value        json.RawMessage `json:"value,omitempty"`        // put
	Report       *Report         `json:"report,omitempty"`       // report
	Event        string          `json:"event,omitempty"`        // act
	Action       *Action         `json:"action,omitempty"`       // act
}

// PluginActions are the event actions a plugin may take.
var PluginActions = []string{"comment", "supervise"}
