package node

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/keyfile"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/seal"
	"github.com/fengqiao/fengqiao/core/state"
)

// A node's stores follow its key file: a rotation step takes effect
// without a restart, while a garbled file or one of another cipher is
// reported once and the keys in use stay.
func TestKeyFileIsReadAgainWhenItChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := keyfile.WriteNew(path, seal.AES256GCM); err != nil {
		t.Fatal(err)
	}
	loaded, _ := os.ReadFile(path)
	kr, err := keyfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := state.OpenEngine(t.TempDir(), state.EngineOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	a := core.New(e, state.NewLocal(e), core.Options{Keyring: kr})
	b := core.New(e, state.NewLocal(e), core.Options{Keyring: kr})
	defer a.Close()
	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchKeyFile(ctx, path, loaded, string(seal.AES256GCM), 5*time.Millisecond, slog.New(slog.NewJSONHandler(logs, nil)), a, b)
	}()
	current := func(s *core.Store) byte {
		c, err := s.SealedCensus()
		if err != nil {
			t.Fatal(err)
		}
		return c.Current
	}
	await := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: never", what)
			}
		}
	}
	time.Sleep(30 * time.Millisecond)
	if strings.Count(logs.String(), "reloaded") != 0 {
		t.Fatal("an unchanged key file was reloaded")
	}
	id, err := keyfile.AddKey(path)
	if err == nil {
		err = keyfile.UseKey(path, id)
	}
	if err != nil {
		t.Fatal(err)
	}
	await("both stores seal with generation 2", func() bool { return current(a) == 2 && current(b) == 2 })
	// The rotation is an audit record.
	await("the rotation is audited", func() bool {
		recs, err := e.AuditPage(0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if strings.Contains(string(r.Command), `"kind":"key_rotation"`) && strings.Contains(string(r.Command), "sealing generation 1 to 2") {
				return true
			}
		}
		return false
	})

	other := filepath.Join(t.TempDir(), "sm4.json")
	if err := keyfile.WriteNew(other, seal.SM4GCM); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	sm4, _ := os.ReadFile(other)
	for _, bad := range [][]byte{[]byte("garbage"), sm4} {
		// Counted before the file changes: the watcher may report it
		// before this goroutine runs again.
		before := strings.Count(logs.String(), "cannot be used")
		if err := replaceFile(path, bad); err != nil {
			t.Fatal(err)
		}
		await("the bad file is reported", func() bool { return strings.Count(logs.String(), "cannot be used") == before+1 })
		time.Sleep(30 * time.Millisecond) // several more reads
		if n := strings.Count(logs.String(), "cannot be used"); n != before+1 || current(a) != 2 {
			t.Fatalf("bad file %.20q: %d reports, generation %d", bad, n-before, current(a))
		}
	}
	if !strings.Contains(logs.String(), "changed its cipher") {
		t.Fatal("a key file of another cipher was not named as such")
	}
	// A good file after bad ones is taken.
	if err := replaceFile(path, good); err != nil {
		t.Fatal(err)
	}
	id, err = keyfile.AddKey(path)
	if err == nil {
		err = keyfile.UseKey(path, id)
	}
	if err != nil {
		t.Fatal(err)
	}
	await("generation 3 after the bad files", func() bool { return current(a) == 3 && current(b) == 3 })
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the watcher did not stop with its context")
	}
}

// replaceFile swaps path's contents in one rename, as operators are told to
// (and as core.AddKey does): an in-place write can be read half done, and
// the watcher would rightly report the torn file as well.
func replaceFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
