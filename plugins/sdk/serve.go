package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-plugin"
)

// realStdout is the plugin's standard output, kept for go-plugin's
// handshake line. Until Serve hands it over, os.Stdout is standard error:
// a stray fmt.Println in a plugin's init cannot break the handshake
// (go-plugin #164); it reaches the host's log instead.
var realStdout = os.Stdout

// realStderr is the plugin's standard error as the host reads it for log
// lines: go-plugin's Serve replaces os.Stderr with a pipe of its own.
var realStderr = os.Stderr

// init guards standard output only in a process a host started as a
// plugin (go-plugin sets the handshake's cookie in its environment): a
// host that imports this package keeps its own stdout.
func init() {
	if os.Getenv(Handshake.MagicCookieKey) == Handshake.MagicCookieValue {
		os.Stdout = os.Stderr
	}
}

// DebugEnv, set to 1, runs a plugin for a debugger: it serves on its own,
// prints the FENGQIAO_PLUGIN_REATTACH value a node needs to reach it, and
// runs until interrupted (Terraform's debug mode).
const DebugEnv = "FENGQIAO_PLUGIN_DEBUG"

// Serve runs the plugin until the host stops it, or until the process that
// started it is gone. It does not return.
func Serve(p Plugin) {
	if os.Getenv(DebugEnv) == "1" {
		os.Stdout = realStdout
		if err := serveDebug(p); err != nil {
			fmt.Fprintln(os.Stderr, "fengqiao plugin debug:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	go exitWithParent(os.Getppid(), time.Second)
	os.Stdout = realStdout
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{ProtocolVersion: {PluginKey: &GRPCPlugin{Impl: p}}},
		GRPCServer:       plugin.DefaultGRPCServer,
	})
	os.Exit(0)
}

// serveDebug serves p in go-plugin's test mode and prints how to reach it.
func serveDebug(p Plugin) error {
	d, err := p.Describe(context.Background())
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ch := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{ProtocolVersion: {PluginKey: &GRPCPlugin{Impl: p}}},
		GRPCServer:       plugin.DefaultGRPCServer,
		Test:             &plugin.ServeTestConfig{Context: ctx, ReattachConfigCh: ch, CloseCh: closed},
	})
	rc := <-ch
	if rc == nil {
		return errors.New("go-plugin gave no reattach config")
	}
	line, err := json.Marshal(map[string]any{d.Name: map[string]any{"Protocol": string(rc.Protocol), "ProtocolVersion": rc.ProtocolVersion,
		"Pid": rc.Pid, "Test": true, "Addr": map[string]string{"Network": rc.Addr.Network(), "String": rc.Addr.String()}}})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stdout, "%s %s serving for a debugger; start the node with:\n%s='%s'\n", d.Name, d.Version, "FENGQIAO_PLUGIN_REATTACH", line)
	<-closed
	return nil
}

// exitWithParent ends the plugin once its parent has died (its parent
// process id changes to the reaper's), so a node killed with -9 leaves no
// plugin behind even where the host's parent-death signal does not reach.
func exitWithParent(parent int, every time.Duration) {
	for range time.Tick(every) {
		if os.Getppid() != parent {
			os.Exit(1)
		}
	}
}
