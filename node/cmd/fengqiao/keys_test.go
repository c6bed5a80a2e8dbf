package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The keys commands rotate a key file in two steps through the real binary,
// and refuse bad input with the offending field, leaving the file alone.
func TestKeysCommands(t *testing.T) {
	bin := binary(t)
	file := filepath.Join(t.TempDir(), "keys.json")
	run := func(args ...string) (string, error) {
		out, err := exec.Command(bin, args...).CombinedOutput()
		return string(out), err
	}
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"keygen", "--out", file, "--cipher", "sm4-gcm"}, "wrote sm4-gcm keys"},
		{[]string{"keys", "list", file}, "cipher sm4-gcm, current generation 1, generations 1\n"},
		{[]string{"keys", "add", file}, "added generation 2"},
		{[]string{"keys", "list", file}, "current generation 1, generations 1 2\n"},
		{[]string{"keys", "use", file, "2"}, "generation 2 is current"},
		{[]string{"keys", "list", file}, "current generation 2, generations 1 2\n"},
	}
	for _, s := range steps {
		out, err := run(s.args...)
		if err != nil || !strings.Contains(out, s.want) {
			t.Fatalf("%v: %v\n%s", s.args, err, out)
		}
	}
	before, _ := os.ReadFile(file)
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"keys", "use", file, "9"}, "id: key file"},
		{[]string{"keys", "use", file, "x"}, "id: generation id must be"},
		{[]string{"keys", "use", file, "256"}, "id: generation id must be"},
		{[]string{"keys", "add", filepath.Join(t.TempDir(), "none.json")}, "read key file"},
		{[]string{"keys", "list"}, "accepts 1 arg"},
	} {
		out, err := run(bad.args...)
		if err == nil || !strings.Contains(out, bad.want) {
			t.Errorf("%v: %v, want an error containing %q\n%s", bad.args, err, bad.want, out)
		}
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(after, before) {
		t.Fatal("a refused keys command changed the key file")
	}
	if out, _ := run("keys", "list", file); strings.Contains(out, `"enc"`) || len(out) > 80 {
		t.Fatalf("keys list printed more than the generations: %s", out)
	}
}
