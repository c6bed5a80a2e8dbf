package host

import (
	"encoding/json"
	"fmt"
	"net"

	"github.com/hashicorp/go-plugin"
)

// ReattachEnv names the variable that points the node at plugins already
// running under a debugger, as Terraform's TF_REATTACH_PROVIDERS does. A
// plugin started with FENGQIAO_PLUGIN_DEBUG=1 prints the line to set.
const ReattachEnv = "FENGQIAO_PLUGIN_REATTACH"

// Reattach maps plugin names to the processes to reach instead of starting
// their binaries.
type Reattach map[string]*plugin.ReattachConfig

// ReattachConfig is one entry of ReattachEnv, JSON.
type ReattachConfig struct {
	Protocol        string
	ProtocolVersion int
	Pid             int
	Test            bool
	Addr            struct{ Network, String string }
}

// ParseReattach reads ReattachEnv's value: a JSON object of plugin name to
// ReattachConfig. An empty value reattaches nothing.
func ParseReattach(raw string) (Reattach, error) {
	if raw == "" {
		return nil, nil
	}
	var in map[string]ReattachConfig
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		return nil, fmt.Errorf("%s: %w", ReattachEnv, err)
	}
	out := Reattach{}
	for name, c := range in {
		var addr net.Addr
		var err error
		switch c.Addr.Network {
		case "unix":
			addr, err = net.ResolveUnixAddr("unix", c.Addr.String)
		case "tcp":
			addr, err = net.ResolveTCPAddr("tcp", c.Addr.String)
		default:
			err = fmt.Errorf("network %q is neither unix nor tcp", c.Addr.Network)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: plugin %s: %w", ReattachEnv, name, err)
		}
		if c.Protocol != string(plugin.ProtocolGRPC) {
			return nil, fmt.Errorf("%s: plugin %s: protocol %q, want grpc", ReattachEnv, name, c.Protocol)
		}
		out[name] = &plugin.ReattachConfig{Protocol: plugin.ProtocolGRPC, ProtocolVersion: c.ProtocolVersion, Addr: addr, Pid: c.Pid, Test: c.Test}
	}
	return out, nil
}
