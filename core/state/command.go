package state

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Command is one typed, versioned state change. Everything Apply needs is in
// it: the time, the actor and any ids come from the proposer, so every replica
// that applies it computes the same result.
type Command struct {
	Type         string    `json:"type"`
	Version      int       `json:"v"`
	ID           string    `json:"id"`            // request id, unique per command
	At           time.Time `json:"at"`            // the proposer's clock, UTC
	Actor        string    `json:"actor"`         // who asked
	Jurisdiction string    `json:"jur,omitempty"` // the jurisdiction acted in, when there is one
	// Scope is the subtree the actor may touch ("" for the node itself and
	// embedding programs). Apply refuses a command that would change a
	// record outside it, so a check made before proposing cannot be raced.
	Scope string `json:"scope,omitempty"`
	// Level is the rule level of the binary that proposed the command
	// (RuleLevel). Apply behaviour that changed between releases — the
	// change feed, a stored record's format, a tightened limit — is chosen
	// by it, never by the binary applying: an old log entry then applies
	// exactly as it did when it was first applied, on every replica.
	Level int `json:"level,omitempty"`
	// Digest, on a keyed command (an idempotent retry), is the request the
	// key was given with, hashed: the same key with another request is
	// refused instead of answered with the first one's result.
	Digest string `json:"digest,omitempty"`
	// Payload is a JSON object, or for hot commands (a report) a binary
	// record; see decodePayload. Only the binary envelope carries the latter.
	Payload json.RawMessage `json:"payload"`
}

// Rule levels. A release that changes what apply writes for the same
// command adds a level, proposes under it, and keeps the old behaviour for
// commands of lower levels. Upgrade every replica before the leader, as a
// replica refuses a command of a level above its own.
const (
	// LevelFeed: applied commands write change-feed records (changes.go).
	LevelFeed = 1
	// LevelRecords (record.go): binary records in format 2, with numbered
	// fields and an extension map.
	LevelRecords = 2
	// LevelEscalation: escalating needs a tier above; before it, an event
	// escalated where no parent is linked was left escalated to no one.
	LevelEscalation = 3
	// LevelDaily: the rules of the daily-work release — a house keeps its
	// village, is not moved off its residents' grid and takes no residents
	// once retired; a resident's house lies where the resident lives.
	LevelDaily = 4
	// RuleLevel is the level this binary proposes under.
	RuleLevel = LevelDaily
)

// MaxCommandSize bounds an encoded command (a bulk import splits into several).
const MaxCommandSize = 8 << 20

// commandMagic opens the binary envelope. It can never start a JSON text,
// so DecodeCommand tells the two forms apart by the first byte.
const (
	CommandMagic   = 0xF0
	commandFormat1 = 1
	commandFormat2 = 2 // format 1 and the actor's scope
	commandFormat3 = 3 // format 1, the scope (maybe empty) and the rule level
	commandFormat4 = 4 // format 3 and the request digest
)

// Encode returns the canonical wire form of c: a binary envelope (magic,
// format, type, version, id, time, actor, jurisdiction) around the JSON
// payload. Every replica decodes the envelope of every entry, and parsing it
// as JSON cost as much as the rest of applying a report.
func (c *Command) Encode() ([]byte, error) {
	if !payloadForm(c.Payload) {
		return nil, errs.Invalid("command.payload", "json", "encode command %s: payload must be a JSON object or a binary record", c.Type)
	}
	b := make([]byte, 0, 57+len(c.Type)+len(c.ID)+len(c.Actor)+len(c.Jurisdiction)+len(c.Scope)+len(c.Digest)+len(c.Payload))
	// A command of level 0 keeps format 1 or 2, byte for byte.
	format := byte(commandFormat1)
	switch {
	case c.Digest != "":
		format = commandFormat4
	case c.Level > 0:
		format = commandFormat3
	case c.Scope != "":
		format = commandFormat2
	}
	b = append(b, CommandMagic, format)
	b = appendStr(b, c.Type)
	b = binary.AppendUvarint(b, uint64(c.Version))
	b = appendStr(b, c.ID)
	b = appendTime(b, c.At)
	b = appendStr(b, c.Actor)
	b = appendStr(b, c.Jurisdiction)
	if format >= commandFormat2 {
		b = appendStr(b, c.Scope)
	}
	if format >= commandFormat3 {
		b = binary.AppendUvarint(b, uint64(c.Level))
	}
	if format == commandFormat4 {
		b = appendStr(b, c.Digest)
	}
	return append(b, c.Payload...), nil
}

// DecodeCommand parses and checks the envelope of an encoded command, binary
// or (as written before the binary envelope, and still in old logs) JSON. It
// rejects unknown fields, unknown types and unsupported versions, so a replica
// never half-understands a command.
func DecodeCommand(data []byte) (*Command, error) {
	if len(data) > MaxCommandSize {
		return nil, errs.Invalid("command", "size", "command is %d bytes, more than %d", len(data), MaxCommandSize)
	}
	var c Command
	if len(data) > 0 && data[0] == CommandMagic {
		if err := c.decodeBinary(data); err != nil {
			return nil, err
		}
	} else if err := c.decodeJSON(data); err != nil {
		return nil, err
	}
	h, ok := handlers[c.Type]
	switch {
	case !ok:
		return nil, errs.Invalid("command.type", "enum", "unknown command type %q", c.Type)
	case c.Version < 1 || c.Version > h.version:
		return nil, errs.Invalid("command.v", "version", "%s version %d not supported (max %d)", c.Type, c.Version, h.version)
	case c.Level < 0 || c.Level > RuleLevel:
		return nil, errs.Invalid("command.level", "version", "command of rule level %d; this binary knows up to %d: upgrade it", c.Level, RuleLevel)
	case c.ID == "" || len(c.ID) > 64:
		return nil, errs.Invalid("command.id", "required", "command id must be 1..64 characters")
	case c.At.IsZero():
		return nil, errs.Invalid("command.at", "required", "command time is missing")
	case !payloadForm(c.Payload):
		return nil, errs.Invalid("command.payload", "json", "payload must be a JSON object or a binary record")
	}
	return &c, nil
}

func (c *Command) decodeBinary(data []byte) error {
	r := wireReader{b: data[1:]}
	f := r.byte()
	if f < commandFormat1 || f > commandFormat4 {
		return errs.Invalid("command", "format", "binary command format %d not supported", f)
	}
	c.Type = r.str()
	v := r.uvarint()
	c.ID = r.str()
	c.At = r.time()
	c.Actor = r.str()
	c.Jurisdiction = r.str()
	switch f {
	case commandFormat2:
		if c.Scope = r.str(); c.Scope == "" {
			r.bad = true // format 2 exists to carry a scope
		}
	case commandFormat3, commandFormat4:
		c.Scope = r.str()
		if lv := r.uvarint(); lv < 1 || lv > math.MaxInt32 {
			r.bad = true // format 3 exists to carry a level
		} else {
			c.Level = int(lv)
		}
		if f == commandFormat4 {
			if c.Digest = r.str(); c.Digest == "" {
				r.bad = true // format 4 exists to carry a digest
			}
		}
	}
	if r.bad || v > math.MaxInt32 {
		return errs.Invalid("command", "format", "truncated or malformed command envelope")
	}
	c.Version = int(v)
	c.Payload = json.RawMessage(r.b)
	return nil
}

// payloadJSON returns the payload as JSON: as is, or a binary record decoded
// and re-encoded (for readers of the audit log).
func (c *Command) payloadJSON() (json.RawMessage, error) {
	if len(c.Payload) == 0 || c.Payload[0] != recordMagic {
		return c.Payload, nil
	}
	v, err := handlers[c.Type].decode(c)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func (c *Command) decodeJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return errs.Invalid("command", "json", "malformed command: %v", err)
	}
	if dec.More() {
		return errs.Invalid("command", "json", "trailing data after command")
	}
	return nil
}

// handler applies one command type inside a write transaction. decode, when
// set, parses the payload outside the transaction (in parallel for a batch);
// its result reaches apply as v.
type handler struct {
	decode func(c *Command) (any, error)
	apply  func(t *txn, c *Command, v any) (any, error)
}

// commandDef is one entry of the command registry (commands.go).
type commandDef struct {
	id      uint16 // stable number, never reused
	name    string // the type commands carry
	version int    // the newest payload version understood
	handler
}

// typed makes the handler of a command whose payload decodes strictly into
// P, before the write transaction (in parallel for a batch).
func typed[P any](apply func(t *txn, c *Command, p *P) (any, error)) handler {
	return handler{
		decode: func(c *Command) (any, error) {
			p := new(P)
			if err := decodePayload(c, p); err != nil {
				return nil, err
			}
			return p, nil
		},
		apply: func(t *txn, c *Command, v any) (any, error) { return apply(t, c, v.(*P)) },
	}
}

// handlers indexes the registry by type name.
var handlers = func() map[string]commandDef {
	m := make(map[string]commandDef, len(commands))
	for i, d := range commands {
		if _, dup := m[d.name]; dup || d.id != uint16(i+1) {
			panic("core: command registry: " + d.name + " is repeated or out of order")
		}
		m[d.name] = d
	}
	return m
}()

// decoded is an entry parsed ahead of its transaction.
type decoded struct {
	cmd *Command
	val any
	err error
}

func decodeEntry(data []byte) decoded {
	c, err := DecodeCommand(data)
	if err != nil {
		return decoded{err: err}
	}
	d := decoded{cmd: c}
	if h := handlers[c.Type]; h.decode != nil {
		d.val, d.err = h.decode(c)
		if d.err != nil {
			d.err = fmt.Errorf("%s: %w", c.Type, d.err)
		}
	}
	return d
}

// CommandTypes lists the registered command types and their versions.
func CommandTypes() map[string]int {
	out := make(map[string]int, len(commands))
	for _, d := range commands {
		out[d.name] = d.version
	}
	return out
}

// payloadForm reports whether p starts as a JSON object or a binary record.
// A binary record is only valid in the binary envelope (DecodeCommand).
func payloadForm(p []byte) bool {
	return len(p) > 0 && (p[0] == '{' || p[0] == recordMagic)
}

// decodePayload strictly decodes a command payload into v: a binary record
// when the payload is one (hot payloads such as a report, see record.go),
// JSON otherwise.
func decodePayload(c *Command, v any) error {
	if c.Payload[0] == recordMagic {
		if err := decodeRecord(c.Payload, v); err != nil {
			return errs.Invalid("command.payload", "binary", "%s payload: %v", c.Type, err)
		}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(c.Payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errs.Invalid("command.payload", "json", "%s payload: %v", c.Type, err)
	}
	// The binary envelope carries the payload as its tail, which nothing
	// else has checked to be exactly one JSON value.
	if _, err := dec.Token(); err != io.EOF {
		return errs.Invalid("command.payload", "json", "%s payload: trailing data after the object", c.Type)
	}
	return nil
}

// CommandVersion is the newest payload version of a command type, and
// whether the type is registered.
func CommandVersion(typ string) (int, bool) {
	d, ok := handlers[typ]
	return d.version, ok
}

// inputRules reports whether apply checks a command's input rules itself.
// Commands from before LevelRecords had their input checked in apply when
// first applied, and a replay must refuse exactly what was refused then.
// From LevelRecords the services check input before proposing (DESIGN.md),
// and apply checks only what depends on the state: a binary that tightens
// a rule then never refuses an old log entry an older replica accepted.
func inputRules(c *Command) bool { return c.Level < LevelRecords }
