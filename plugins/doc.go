// Package plugins is where each region adds its own features (一区一特色)
// with hashicorp/go-plugin: sdk/ is what plugin authors import (no raft, no
// bbolt), proto/ is the wire protocol, host/ loads and supervises plugins.
// The packages arrive with the plugin work; nothing here is in use yet.
package plugins
