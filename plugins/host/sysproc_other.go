//go:build !linux

package host

import "os/exec"

// ownGroup does nothing where there is no parent-death signal; the SDK's
// own watch of its parent still ends an orphaned plugin.
func ownGroup(cmd *exec.Cmd) {}
