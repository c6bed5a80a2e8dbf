package plugins

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fengqiao/fengqiao/plugins/host"
)

// The complete plugin docs/plugins.md shows builds, fits in 60 lines, and
// passes the conformance kit.
func TestDocPluginBuilds(t *testing.T) {
	doc, err := os.ReadFile("../../docs/plugins.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "## A complete plugin\n\n```go\n")
	src, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatal("docs/plugins.md has no complete plugin")
	}
	if n := strings.Count(src, "\n"); n > 60 {
		t.Fatalf("the complete plugin is %d lines, more than 60", n)
	}
	// Inside the module (a dot directory, which ./... leaves out), so its
	// imports resolve to this tree.
	dir, err := os.MkdirTemp(".", ".docplugin-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "grid-check")
	if out, err := exec.Command("go", "build", "-o", bin, "./"+dir).CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	rep, err := host.Check(context.Background(), bin, nil, slog.New(slog.DiscardHandler))
	if err != nil || rep.Failed() != 0 {
		t.Fatalf("the conformance kit: %v %+v", err, rep)
	}
}
