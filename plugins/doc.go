// Package plugins is where each region adds its own features (一区一特色)
// with hashicorp/go-plugin: sdk/ is what plugin authors import (no raft, no
// bbolt), proto/ is the wire protocol (gRPC, version 1), host/ loads and
// supervises plugins (arriving with the rest of the plugin issue).
package plugins
