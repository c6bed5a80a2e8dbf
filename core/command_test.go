package core

import (
	"errors"
	"testing"

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

// FuzzDecodeCommand checks that any input either decodes to a command that
// re-encodes and decodes to the same thing, or fails with a typed error; and
// that applying it never panics and leaves state alone when rejected.
func FuzzDecodeCommand(f *testing.F) {
	f.Add([]byte(`{"type":"event.report","v":1,"id":"a","at":"2026-11-24T00:00:00Z","actor":"x","payload":{"category":"dispute","description":"x","jurisdiction":"511083001"}}`))
	f.Add([]byte(`{"type":"event.act","v":1,"id":"b","at":"2026-11-24T00:00:00Z","actor":"x","payload":{"id":"x","action":{"action":"accept"}}}`))
	f.Add([]byte(`{"type":"grid.create","v":1,"id":"c","at":"2026-11-24T00:00:00Z","actor":"x","payload":{"grid":{}}}`))
	f.Add([]byte(`{}`))
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
