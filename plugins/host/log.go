package host

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
)

// slogWriter takes go-plugin's log lines (hclog JSON, the host's own and
// those the plugin wrote) into the node's slog, under the plugin's name.
type slogWriter struct {
	log    *slog.Logger
	plugin string
	buf    []byte
}

func (w *slogWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.line(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
}

func (w *slogWriter) line(raw []byte) {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		w.log.Info(string(raw), "plugin", w.plugin)
		return
	}
	msg, _ := m["@message"].(string)
	lvl := slog.LevelInfo
	switch m["@level"] {
	case "error":
		lvl = slog.LevelError
	case "warn":
		lvl = slog.LevelWarn
	case "debug", "trace":
		lvl = slog.LevelDebug
	}
	attrs := []any{"plugin", w.plugin}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if k != "@message" && k != "@level" && k != "@timestamp" && k != "@module" {
			attrs = append(attrs, k, m[k])
		}
	}
	w.log.Log(context.Background(), lvl, msg, attrs...)
}
