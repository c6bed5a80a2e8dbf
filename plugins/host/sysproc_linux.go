package host

import (
	"os/exec"
	"syscall"
)

// ownGroup starts the plugin in its own process group, killed by the
// kernel when the node dies (go-plugin #10): a node killed with -9 leaves
// no plugin behind. The signal follows the OS thread that started the
// plugin; Go retires a thread only when a goroutine locked to it exits,
// which the host never does, and the SDK's own watch of its parent
// covers what the signal cannot.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
