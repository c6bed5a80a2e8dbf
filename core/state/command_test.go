package state

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
)

func TestDecodeCommandRejects(t *testing.T) {
	cases := map[string]string{
		"unknown type":  `{"type":"nope","v":1,"id":"a","at":"2026-11-24T00:00:00Z","actor":"x","payload":{}}`,
		"future v":      `{"type":"event.report","v":9,"id":"a","at":"2026-11-24T00:00:00Z","actor":"x","payload":{}}`,
		"no id":         `{"type":"event.report","v":1,"at":"2026-11-24T00:00:00Z","actor":"x","payload":{}}`,
		"no time":       `{"type":"event.report","v":1,"id":"a","actor":"x","payload":{}}`,
		"unknown field": `{"type":"event.report","v":1,"id":"a","at":"2026-11-24T00:00:00Z","actor":"x","payload":{},"extra":1}`,
		"array payload": `{"type":"event.report","v":1,"id":"a","at":"2026-11-24T00:00:00Z","actor":"x","payload":[]}`,
		"trailing":      `{"type":"event.report","v":1,"id":"a","at":"2026-11-24T00:00:00Z","actor":"x","payload":{}} {}`,
		"not json":      `{"type":`,
	}
	for name, in := range cases {
		if _, err := DecodeCommand([]byte(in)); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("%s: want invalid, got %v", name, err)
		}
	}
	good := `{"type":"event.report","v":1,"id":"a","at":"2026-11-24T00:00:00Z","actor":"x","payload":{}}`
	if _, err := DecodeCommand([]byte(good)); err != nil {
		t.Fatal(err)
	}
}

func TestBinaryEnvelope(t *testing.T) {
	at := time.Date(2026, 11, 24, 1, 2, 3, 456789, time.UTC)
	c := &Command{Type: "event.report", Version: 1, ID: "a1", At: at, Actor: "网格员", Jurisdiction: "511083", Payload: json.RawMessage(`{"category":"dispute"}`)}
	b, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != CommandMagic {
		t.Fatalf("not the binary envelope: %q", b[:8])
	}
	got, err := DecodeCommand(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("round trip: got %+v, want %+v", got, c)
	}
	// The JSON form still decodes to the same command (old log entries).
	legacy, _ := json.Marshal(c)
	old, err := DecodeCommand(legacy)
	if err != nil || !reflect.DeepEqual(old, c) {
		t.Fatalf("JSON form: %+v, %v", old, err)
	}
	bad := map[string][]byte{
		"truncated envelope": b[:10],
		"unknown format":     append([]byte{CommandMagic, 9}, b[2:]...),
		"empty":              {CommandMagic},
	}
	for name, in := range bad {
		if _, err := DecodeCommand(in); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("%s: want invalid, got %v", name, err)
		}
	}
	if _, err := (&Command{Type: "event.report", Payload: json.RawMessage(`[]`)}).Encode(); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("non-object payload encoded: %v", err)
	}
}

// The binary envelope's payload is its tail: bytes after the JSON object
// must be refused, not ignored, and refusing them changes nothing.
func TestBinaryPayloadTrailingBytes(t *testing.T) {
	e, err := OpenEngine(t.TempDir(), EngineOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	before, _ := e.Digest()
	for i, tail := range []string{`}`, ` {}`, `x`} {
		c := &Command{Type: "event.sweep", Version: 1, ID: "t", At: time.Now().UTC(), Actor: "x", Payload: json.RawMessage(`{"ids":[]}` + tail)}
		b, _ := c.Encode()
		res, err := e.ApplyBatch([]Entry{{Index: uint64(i + 1), Data: b}})
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(res[0].Err, errs.ErrInvalid) || errs.Field(res[0].Err) != "command.payload" {
			t.Errorf("tail %q: want invalid command.payload, got %v", tail, res[0].Err)
		}
	}
	if after, _ := e.Digest(); after != before {
		t.Fatal("a rejected command changed the state")
	}
}

// FuzzDecodeCommand checks that any input either decodes to a command that
// re-encodes and decodes to the same thing, or fails with a typed error; and
// that applying it never panics and leaves state alone when rejected.
func FuzzDecodeCommand(f *testing.F) {
	f.Add([]byte(`{"type":"event.report","v":1,"id":"a","at":"2026-11-24T00:00:00Z","actor":"x","payload":{"category":"dispute","description":"x","jurisdiction":"511083001"}}`))
	f.Add([]byte(`{"type":"event.act","v":1,"id":"b","at":"2026-11-24T00:00:00Z","actor":"x","payload":{"id":"x","action":{"action":"accept"}}}`))
	f.Add([]byte(`{"type":"grid.create","v":1,"id":"c","at":"2026-11-24T00:00:00Z","actor":"x","payload":{"grid":{}}}`))
	f.Add([]byte(`{}`))
	bin, _ := (&Command{Type: "event.sweep", Version: 1, ID: "d", At: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), Actor: "x", Payload: json.RawMessage(`{"ids":["a"]}`)}).Encode()
	f.Add(bin)
	e, err := OpenEngine(f.TempDir(), EngineOptions{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	defer e.Close()
	var idx uint64
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeCommand(data)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		b, err := c.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeCommand(b); err != nil {
			t.Fatalf("re-encoded command does not decode: %v", err)
		}
		before, _ := e.Digest()
		idx++
		res, err := e.ApplyBatch([]Entry{{Index: idx, Data: data}})
		if err != nil {
			t.Fatal(err)
		}
		if after, _ := e.Digest(); res[0].Err != nil && after != before {
			t.Fatal("a rejected command changed the state")
		}
	})
}

// A scoped command travels in format 2; one without a scope keeps format 1
// byte for byte, so logs written before scopes existed read the same.
func TestScopedEnvelope(t *testing.T) {
	at := time.Date(2026, 12, 7, 1, 2, 3, 0, time.UTC)
	c := &Command{Type: "party.org", Version: 1, ID: "s1", At: at, Actor: "token:tok-1", Scope: "511083001", Payload: json.RawMessage(`{"id":"o"}`)}
	b, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if b[1] != commandFormat2 {
		t.Fatalf("format %d, want %d", b[1], commandFormat2)
	}
	got, err := DecodeCommand(b)
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	unscoped := *c
	unscoped.Scope = ""
	u, _ := unscoped.Encode()
	if u[1] != commandFormat1 {
		t.Fatalf("an unscoped command took format %d", u[1])
	}
	// Format 2 with an empty scope is malformed: the format exists to carry one.
	empty := append([]byte{CommandMagic, commandFormat2}, u[2:]...)
	empty = append(empty[:len(u)-len(unscoped.Payload)], append([]byte{0}, unscoped.Payload...)...)
	if _, err := DecodeCommand(empty); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("format 2 without a scope: %v", err)
	}
}

// A command proposed under a rule level travels in envelope format 3; one
// of level 0 keeps format 1 or 2 byte for byte, and a level this binary does
// not know is refused, so an old replica never half-applies a new command.
func TestCommandLevelInEnvelope(t *testing.T) {
	at := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	for _, c := range []Command{
		{Type: "event.act", Version: 1, ID: "a", At: at, Actor: "x", Payload: []byte(`{"id":"e"}`)},
		{Type: "event.act", Version: 1, ID: "a", At: at, Actor: "x", Scope: "511083", Payload: []byte(`{"id":"e"}`)},
		{Type: "event.act", Version: 1, ID: "a", At: at, Actor: "x", Level: LevelFeed, Payload: []byte(`{"id":"e"}`)},
		{Type: "event.act", Version: 1, ID: "a", At: at, Actor: "x", Scope: "511083", Level: LevelFeed, Payload: []byte(`{"id":"e"}`)},
		{Type: "event.act", Version: 1, ID: "k-a", At: at, Actor: "x", Scope: "511083", Level: LevelDaily, Digest: "d1", Payload: []byte(`{"id":"e"}`)},
	} {
		raw, err := c.Encode()
		if err != nil {
			t.Fatal(err)
		}
		want := byte(commandFormat1)
		switch {
		case c.Digest != "":
			want = commandFormat4
		case c.Level > 0:
			want = commandFormat3
		case c.Scope != "":
			want = commandFormat2
		}
		if raw[1] != want {
			t.Fatalf("%+v: format %d, want %d", c, raw[1], want)
		}
		got, err := DecodeCommand(raw)
		if err != nil || got.Level != c.Level || got.Scope != c.Scope || got.Digest != c.Digest {
			t.Fatalf("%+v: decoded %+v, %v", c, got, err)
		}
	}
	// Format 4 exists to carry a digest: one without is malformed.
	c := Command{Type: "event.act", Version: 1, ID: "a", At: at, Actor: "x", Level: LevelDaily, Digest: "d", Payload: []byte(`{"id":"e"}`)}
	raw, _ := c.Encode()
	noDigest := slices.Concat(raw[:len(raw)-len(c.Payload)-2], []byte{0}, c.Payload)
	if _, err := DecodeCommand(noDigest); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("format 4 with an empty digest: %v", err)
	}
	c = Command{Type: "event.act", Version: 1, ID: "a", At: at, Actor: "x", Level: RuleLevel + 1, Payload: []byte(`{"id":"e"}`)}
	raw, _ = c.Encode()
	if _, err := DecodeCommand(raw); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "command.level" {
		t.Fatalf("a level from a newer binary: %v", err)
	}
}
