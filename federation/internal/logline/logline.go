// Package logline bridges libraries that log text lines ("[WARN] raft: …",
// "[ERR] memberlist: …") into log/slog at the matching level, so one JSON log
// carries everything a node says.
package logline

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
)

// Writer is an io.Writer that turns each written line into one slog record
// under the message Source.
type Writer struct {
	Logger *slog.Logger
	Source string // e.g. "raft", "memberlist"
	// Closing, once set, marks the library as shutting down: its complaints
	// about sockets it has itself closed are expected then (memberlist
	// closes its transport before it stops gossiping), so they log at
	// debug instead of alarming an operator on every clean stop.
	Closing *atomic.Bool
}

// Write logs p at the level its bracketed tag names; untagged lines log at
// warn, since these libraries only tag their chatter.
func (w *Writer) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	lvl := level(line)
	if w.Closing != nil && w.Closing.Load() && strings.Contains(line, closedConn) {
		lvl = slog.LevelDebug
	}
	if lvl == slog.LevelWarn && routine(line) {
		lvl = slog.LevelInfo
	}
	w.Logger.Log(context.Background(), lvl, w.Source, "line", line)
	return len(p), nil
}

// closedConn is how net reports I/O on a socket closed underneath it
// (net.ErrClosed's text, as the libraries print it).
const closedConn = "use of closed network connection"

// routine reports whether a line the library tags WARN is the normal
// course of things, so it stays below warn: a group's first election
// (raft names no last leader; after losing one it names it, and that
// stays a warning).
func routine(line string) bool {
	return strings.Contains(line, "heartbeat timeout reached, starting election") &&
		strings.HasSuffix(line, "last-leader-addr= last-leader-id=")
}

func level(line string) slog.Level {
	switch {
	case strings.Contains(line, "[ERR"):
		return slog.LevelError
	case strings.Contains(line, "[WARN"):
		return slog.LevelWarn
	case strings.Contains(line, "[INFO"):
		return slog.LevelInfo
	case strings.Contains(line, "[DEBUG"), strings.Contains(line, "[TRACE"):
		return slog.LevelDebug
	}
	return slog.LevelWarn
}
