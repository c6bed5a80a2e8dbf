// Package host starts and talks to plugins on the node's side: a plugin
// process is started only from a binary whose SHA-256 is the one expected
// (go-plugin's SecureConfig), over gRPC only, with a start timeout, in its
// own process group with a parent-death signal, and every call has a
// deadline and a bounded answer. Its log lines reach the node's log under
// its name.
package host
