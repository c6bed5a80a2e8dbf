// Package logline bridges libraries that log text lines ("[WARN] raft: …",
// "[ERR] memberlist: …") into log/slog at the matching level, so one JSON log
// carries everything a node says.
package logline

import (
	"context"
	"log/slog"
	"strings"
)

// Writer is an io.Writer that turns each written line into one slog record
// under the message Source.
type Writer struct {
	Logger *slog.Logger
	Source string // e.g. "raft", "memberlist"
}

// Write logs p at the level its bracketed tag names; untagged lines log at
// warn, since these libraries only tag their chatter.
func (w *Writer) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	w.Logger.Log(context.Background(), level(line), w.Source, "line", line)
	return len(p), nil
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
