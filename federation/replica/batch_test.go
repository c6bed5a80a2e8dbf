package replica

import (
	"bytes"
	"slices"
	"testing"
)

func TestBatchEntryRoundTrip(t *testing.T) {
	cmds := [][]byte{[]byte("a"), {}, bytes.Repeat([]byte("x"), 300)}
	got, ok := SplitBatch(EncodeBatch(cmds))
	if !ok || len(got) != len(cmds) {
		t.Fatalf("split: %v %d", ok, len(got))
	}
	for i := range cmds {
		if !bytes.Equal(got[i], cmds[i]) {
			t.Fatalf("command %d: %q", i, got[i])
		}
	}
	good := EncodeBatch(cmds)
	for name, data := range map[string][]byte{
		"empty":       nil,
		"a command":   {0xF0, 1},
		"no count":    {BatchMagic},
		"zero":        {BatchMagic, 0},
		"too many":    append([]byte{BatchMagic}, 0xff, 0xff, 0x7f),
		"short":       good[:len(good)-1],
		"trailing":    append(slices.Clone(good), 0),
		"long length": {BatchMagic, 1, 50, 'x'},
	} {
		if _, ok := SplitBatch(data); ok {
			t.Errorf("%s: accepted", name)
		}
	}
}
