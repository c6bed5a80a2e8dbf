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
// found dirty under another boot is discarded on open; the replica then
// restores the latest snapshot and replays the log after it.

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

// prepareDeferredSync decides, before the file is opened, whether it can be
// trusted; it removes it when not and then marks it dirty under this boot.
// It reports whether deferred sync is in effect (it needs a boot id) and
// whether the old file was discarded.
func prepareDeferredSync(dir, state string) (deferred, discarded bool, err error) {
	boot := bootID()
	if boot == "" {
		return false, false, nil // no way to tell a reboot: keep fsync
	}
	marker := filepath.Join(dir, syncMarker)
	raw, err := os.ReadFile(marker)
	switch {
	case errors.Is(err, os.ErrNotExist):
		// Never written unsynced: whatever is there was fsync'd.
	case err != nil:
		return false, false, fmt.Errorf("core: read %s: %w", marker, err)
	default:
		f := bytes.Fields(raw)
		dirty := len(f) == 2 && string(f[0]) == "dirty"
		if dirty && string(f[1]) != boot {
			if err := os.Remove(state); err != nil && !errors.Is(err, os.ErrNotExist) {
				return false, false, fmt.Errorf("core: discard %s: %w", state, err)
			}
			discarded = true
		} else if !dirty && string(raw) != "clean\n" {
			return false, false, fmt.Errorf("core: %s is damaged (%q); delete it and state.db to rebuild from the log", marker, raw)
		}
	}
	if err := writeMarker(dir, "dirty "+boot+"\n"); err != nil {
		return false, false, err
	}
	return true, discarded, nil
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
