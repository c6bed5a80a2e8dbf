package sdk

import (
	"github.com/hashicorp/go-plugin"
)

// ProtocolVersion is the plugin protocol's major version
// (plugins/proto/fengqiao/plugin/v1). A host speaks every version it lists
// in go-plugin's VersionedPlugins; a plugin of another one is refused at
// the handshake with both versions named.
const ProtocolVersion = 1

// PluginKey is the name the host dispenses a plugin under.
const PluginKey = "fengqiao"

// Handshake is the handshake both sides share: a plugin started by hand,
// not by a host, says so and exits instead of waiting.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "FENGQIAO_PLUGIN",
	MagicCookieValue: "一区一特色",
}
