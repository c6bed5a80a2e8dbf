package state

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"go.etcd.io/bbolt"
)

// updateGoldens rewrites the golden files instead of comparing, for a
// deliberate change: FENGQIAO_UPDATE_GOLDEN=1 go test ./core/state -run Golden.
var updateGoldens = os.Getenv("FENGQIAO_UPDATE_GOLDEN") != ""

// golden compares got with the file at path, or rewrites it.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if updateGoldens {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("%s differs from the code:\n--- code\n%s\n--- %s\n%s", path, got, path, want)
	}
}

// The command registry is append-only. The golden file holds every
// number ever given; a number that changes, or a type that goes, fails
// here, and so does a new type until it is added at the end of both.
func TestGoldenCommandNumbersAreStable(t *testing.T) {
	var b strings.Builder
	for _, d := range commands {
		fmt.Fprintf(&b, "%d %s v%d\n", d.id, d.name, d.version)
	}
	got := b.String()
	if !updateGoldens {
		// Appending is the only change allowed without touching history:
		// the committed list must be a prefix of the registry's.
		want, err := os.ReadFile("testdata/commands.golden")
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(strings.TrimSpace(string(want)), "\n") {
			var id int
			var name string
			fmt.Sscanf(line, "%d %s", &id, &name)
			if i >= len(commands) || int(commands[i].id) != id || commands[i].name != name {
				t.Fatalf("command %d %s of testdata/commands.golden is gone or renumbered", id, name)
			}
		}
	}
	golden(t, "testdata/commands.golden", got)
	for _, d := range commands {
		if handlers[d.name].apply == nil {
			t.Fatalf("%s has no apply", d.name)
		}
	}
}

// schemaText renders the layout of the state file.
func schemaText() string {
	var b strings.Builder
	for _, s := range schema {
		fmt.Fprintf(&b, "bucket %s: %s → %s\n", s.name, s.keys, s.values)
		for _, k := range keys {
			if bytes.Equal(k.bucket, s.name) {
				fmt.Fprintf(&b, "  key %s: %s\n", k.key, k.what)
			}
		}
	}
	return b.String()
}

// The schema file is the whole layout: a fresh state file holds exactly
// its buckets, every named key belongs to one of them, and the golden file
// shows any change to it in review.
func TestGoldenStateSchema(t *testing.T) {
	golden(t, "testdata/schema.golden", schemaText())
	e, err := OpenEngine(t.TempDir(), EngineOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var got []string
	e.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
			got = append(got, string(name))
			return nil
		})
	})
	var want []string
	for _, s := range schema {
		want = append(want, string(s.name))
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("a fresh state file holds %v, the schema says %v", got, want)
	}
	for _, k := range keys {
		if !slices.ContainsFunc(schema, func(s bucketSpec) bool { return bytes.Equal(s.name, k.bucket) }) {
			t.Fatalf("key %s is in bucket %s, which is not in the schema", k.key, k.bucket)
		}
	}
}

// docs/architecture.md's storage table is the schema, rendered; this test
// rewrites it with FENGQIAO_UPDATE_GOLDEN=1.
func TestGoldenArchitectureBucketTable(t *testing.T) {
	const path = "../../docs/architecture.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- schema: generated from core/schema.go -->\n", "<!-- end schema -->\n"
	i, j := bytes.Index(doc, []byte(begin)), bytes.Index(doc, []byte(end))
	if i < 0 || j < i {
		t.Fatalf("%s lacks the schema markers", path)
	}
	var b strings.Builder
	// Markdown would take <name> for a tag.
	esc := strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace
	b.WriteString("| bucket | key | value |\n|---|---|---|\n")
	for _, s := range schema {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", s.name, esc(s.keys), esc(s.values))
		for _, k := range keys {
			if bytes.Equal(k.bucket, s.name) {
				fmt.Fprintf(&b, "| | `%s` | %s |\n", k.key, esc(k.what))
			}
		}
	}
	table := b.String()
	if cur := string(doc[i+len(begin) : j]); cur != table {
		if !updateGoldens {
			t.Fatalf("%s's bucket table is not the schema's; run FENGQIAO_UPDATE_GOLDEN=1 go test ./core/state -run Golden", path)
		}
		out := append(append(append([]byte{}, doc[:i+len(begin)]...), table...), doc[j:]...)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
