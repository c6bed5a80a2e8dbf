package sdk

import "log/slog"

// Logger writes structured lines to standard error in the form go-plugin's
// host reads (hclog JSON), so they reach the node's log under the plugin's
// name.
func Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(realStderr, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				// go-plugin parses hclog's own layout, microseconds and all.
				a.Key, a.Value = "@timestamp", slog.StringValue(a.Value.Time().Format("2006-01-02T15:04:05.000000Z07:00"))
			case slog.LevelKey:
				a.Key, a.Value = "@level", slog.StringValue(levelName(a.Value.Any()))
			case slog.MessageKey:
				a.Key = "@message"
			}
			return a
		},
	}))
}

func levelName(v any) string {
	switch l, _ := v.(slog.Level); {
	case l >= slog.LevelError:
		return "error"
	case l >= slog.LevelWarn:
		return "warn"
	case l >= slog.LevelInfo:
		return "info"
	}
	return "debug"
}
