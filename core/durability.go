package core

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Deferred sync. Under Raft every command is already durable in the
// fsync'd log before it is applied, so fsyncing the state file as well (two
// fdatasyncs per bbolt commit) buys nothing a replay cannot give back. With
// EngineOptions.DeferSync the engine commits without fsync, as Consul's
// in-memory state store and etcd's batched backend do.
//
// What that risks: a process crash loses nothing (the kernel still holds
// every write), but a machine crash can leave the file torn. So the engine
// writes a marker, state.sync, naming the boot it writes under before its
// first unsynced commit, and "clean" after a final fsync on Close. A file
// found dirty under another boot is discarded by the next open, deferring or
// not; the replica then restores the latest snapshot and replays the log
// after it. An fsync'ing open syncs the file and drops the marker.

// syncMarker is the marker file beside state.db.
const syncMarker = "state.sync"

// bootIDPath names the current boot; a var so tests can simulate a reboot.
var bootIDPath = "/proc/sys/kernel/random/boot_id"

func bootID() string {
	b, err := os.ReadFile(bootIDPath)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// discardTorn runs before every open, deferred or not: a file left dirty
// under another boot (or when the boot can no longer be read) may be torn,
// so it is removed. It reports whether it removed it and whether a marker
// exists at all.
func discardTorn(dir, state string) (discarded, marked bool, err error) {
	marker := filepath.Join(dir, syncMarker)
	raw, err := os.ReadFile(marker)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return false, false, nil // never written unsynced: whatever is there was fsync'd
	case err != nil:
		return false, false, fmt.Errorf("core: read %s: %w", marker, err)
	}
	if string(raw) == "clean\n" {
		return false, true, nil
	}
	f := bytes.Fields(raw)
	if len(f) != 2 || string(f[0]) != "dirty" {
		return false, true, fmt.Errorf("core: %s is damaged (%q); delete it and state.db to rebuild from the log", marker, raw)
	}
	if string(f[1]) == bootID() {
		return false, true, nil // a process crash: the kernel kept every write
	}
	if err := os.Remove(state); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, true, fmt.Errorf("core: discard %s: %w", state, err)
	}
	return true, true, nil
}

// writeMarker replaces the marker durably: temp file, fsync, rename, fsync
// of the directory.
func writeMarker(dir, content string) error {
	tmp := filepath.Join(dir, syncMarker+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("core: sync marker: %w", err)
	}
	_, err = f.WriteString(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, syncMarker))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("core: sync marker: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
