package state

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeBoot points the boot id at a file the test controls.
func fakeBoot(t *testing.T, id string) func(string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "boot_id")
	set := func(id string) {
		if err := os.WriteFile(p, []byte(id+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	set(id)
	old := bootIDPath
	bootIDPath = p
	t.Cleanup(func() { bootIDPath = old })
	return set
}

func sweepEntry(i uint64) Entry {
	c := &Command{Type: "event.sweep", Version: 1, ID: "s" + string(rune('a'+i)), At: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), Actor: "x", Payload: json.RawMessage(`{"ids":[]}`)}
	b, _ := c.Encode()
	return Entry{Index: i, Data: b}
}

// A deferred-sync file survives a process crash and a clean shutdown, and
// is discarded only when it was left dirty under another boot.
func TestDeferredSync(t *testing.T) {
	setBoot := fakeBoot(t, "boot-1")
	dir := t.TempDir()
	open := func() *Engine {
		t.Helper()
		e, err := OpenEngine(dir, EngineOptions{DeferSync: true})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	marker := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, syncMarker))
		return string(b)
	}
	e := open()
	if !e.deferred || e.Discarded() || marker() != "dirty boot-1\n" {
		t.Fatalf("deferred %v discarded %v marker %q", e.deferred, e.Discarded(), marker())
	}
	if _, err := e.ApplyBatch([]Entry{sweepEntry(1), sweepEntry(2)}); err != nil {
		t.Fatal(err)
	}
	// Process crash: the file is never marked clean, but the boot is the same.
	e.db.Close()
	e.db = nil
	e = open()
	if e.Discarded() {
		t.Fatal("a process crash under the same boot discarded the state")
	}
	if n, _ := e.AppliedIndex(); n != 2 {
		t.Fatalf("applied %d after a process crash, want 2", n)
	}
	// Clean shutdown, then a reboot: still trusted.
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if marker() != "clean\n" {
		t.Fatalf("marker after Close: %q", marker())
	}
	setBoot("boot-2")
	e = open()
	if e.Discarded() {
		t.Fatal("a cleanly closed file was discarded after a reboot")
	}
	if _, err := e.ApplyBatch([]Entry{sweepEntry(3)}); err != nil {
		t.Fatal(err)
	}
	// Machine crash: dirty under boot-2, reopened under boot-3.
	e.db.Close()
	e.db = nil
	setBoot("boot-3")
	e = open()
	defer e.Close()
	if !e.Discarded() {
		t.Fatal("a file left dirty under another boot was trusted")
	}
	if n, _ := e.AppliedIndex(); n != 0 {
		t.Fatalf("discarded engine has applied %d, want 0", n)
	}
	if marker() != "dirty boot-3\n" {
		t.Fatalf("marker %q", marker())
	}
}

// A damaged marker stops the open with an error that says what to do, and
// leaves the state file alone.
func TestDeferredSyncDamagedMarker(t *testing.T) {
	fakeBoot(t, "boot-1")
	dir := t.TempDir()
	e, err := OpenEngine(dir, EngineOptions{DeferSync: true})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	os.WriteFile(filepath.Join(dir, syncMarker), []byte("garbage"), 0o600)
	if _, err := OpenEngine(dir, EngineOptions{DeferSync: true}); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("want a damaged-marker error, got %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "state.db")); err != nil {
		t.Fatalf("state file touched: %v", err)
	}
}

// Without a boot id there is no way to tell a reboot, so fsync stays on.
func TestDeferredSyncNeedsBootID(t *testing.T) {
	old := bootIDPath
	bootIDPath = filepath.Join(t.TempDir(), "absent")
	defer func() { bootIDPath = old }()
	e, err := OpenEngine(t.TempDir(), EngineOptions{DeferSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.deferred || e.noSync {
		t.Fatal("deferred sync took effect without a boot id")
	}
}

// The marker binds whoever opens the file next, deferring or not: a torn
// file is discarded even by an fsync'ing open, and a file left dirty by a
// process crash is synced and vouched for without the marker.
func TestMarkerHonouredWithoutDeferSync(t *testing.T) {
	setBoot := fakeBoot(t, "boot-1")
	for _, rebooted := range []bool{false, true} {
		dir := t.TempDir()
		e, err := OpenEngine(dir, EngineOptions{DeferSync: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.ApplyBatch([]Entry{sweepEntry(1)}); err != nil {
			t.Fatal(err)
		}
		e.db.Close() // crash: never marked clean
		e.db = nil
		if rebooted {
			setBoot("boot-2")
		} else {
			setBoot("boot-1")
		}
		e, err = OpenEngine(dir, EngineOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n, _ := e.AppliedIndex()
		if e.Discarded() != rebooted || (n == 1) == rebooted {
			t.Fatalf("rebooted %v: discarded %v, applied %d", rebooted, e.Discarded(), n)
		}
		if _, err := os.Stat(filepath.Join(dir, syncMarker)); !os.IsNotExist(err) {
			t.Fatalf("rebooted %v: the marker outlived an fsync'd open: %v", rebooted, err)
		}
		e.Close()
	}
}
