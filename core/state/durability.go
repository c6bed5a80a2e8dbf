package state

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fengqiao/fengqiao/core/internal/atomicfile"
)

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

// writeMarker replaces the marker durably.
func writeMarker(dir, content string) error {
	if err := atomicfile.Replace(filepath.Join(dir, syncMarker), []byte(content)); err != nil {
		return fmt.Errorf("core: sync marker: %w", err)
	}
	return nil
}
