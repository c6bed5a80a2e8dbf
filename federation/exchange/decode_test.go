package exchange

import (
	"errors"
	"testing"

	"github.com/fengqiao/fengqiao/core/errs"
)

func TestDecodeBatchRefusesBadInput(t *testing.T) {
	for _, c := range []struct{ in, field string }{
		{`{"origin":"500153","messages":[],"extra":1}`, "batch"},
		{`{"origin":"500153"}{}`, "batch"},
		{`{"messages":[]}`, "origin"},
		{`{"origin":"500153","messages":[{"seq":2},{"seq":1}]}`, "messages[1].seq"},
		{`not json`, "batch"},
	} {
		_, err := DecodeBatch([]byte(c.in))
		if !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != c.field {
			t.Errorf("%s: %v (field %q, want %q)", c.in, err, errs.Field(err), c.field)
		}
	}
	if b, err := DecodeBatch([]byte(`{"origin":"500153","messages":[{"origin":"500153","dest":"511083","seq":1,"kind":"case.entry","at":"2026-11-24T00:00:00Z","body":{}}]}`)); err != nil || len(b.Messages) != 1 {
		t.Fatalf("good batch: %v", err)
	}
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add([]byte(`{"origin":"500153","messages":[{"origin":"500153","dest":"511083","seq":1,"kind":"case.entry","at":"2026-11-24T00:00:00Z","body":{}}]}`))
	f.Add([]byte(`{"origin":"","messages":null}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := DecodeBatch(raw)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		if b.Origin == "" {
			t.Fatal("accepted a batch without origin")
		}
		for i := 1; i < len(b.Messages); i++ {
			if b.Messages[i].Seq <= b.Messages[i-1].Seq {
				t.Fatal("accepted messages out of order")
			}
		}
	})
}
