package logline

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
)

func TestLevels(t *testing.T) {
	cases := map[string]string{
		"2026/11/24 [ERR] memberlist: failed":    "ERROR",
		"2026-11-24 [ERROR] raft: failed":        "ERROR",
		"[WARN] memberlist: was able to connect": "WARN",
		"[INFO] memberlist: marking node dead":   "INFO",
		"[DEBUG] memberlist: stream connection":  "DEBUG",
		"no tag at all":                          "WARN",
	}
	for line, want := range cases {
		var buf bytes.Buffer
		w := &Writer{Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), Source: "lib"}
		if _, err := w.Write([]byte(line + "\n")); err != nil {
			t.Fatal(err)
		}
		var rec struct{ Level, Msg, Line string }
		if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if rec.Level != want || rec.Msg != "lib" || rec.Line != line {
			t.Errorf("%q logged as %+v, want level %s", line, rec, want)
		}
	}
}
