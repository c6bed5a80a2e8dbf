package logline

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync/atomic"
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
		// A group's first election is routine; losing a leader is not.
		"2026-12-07T23:21:07.072Z [WARN]  raft: heartbeat timeout reached, starting election: last-leader-addr= last-leader-id=":                 "INFO",
		"2026-12-07T23:21:07.072Z [WARN]  raft: heartbeat timeout reached, starting election: last-leader-addr=127.0.0.1:7001 last-leader-id=n1": "WARN",
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

// A closed-socket error is an ERROR while the library runs and debug once
// its owner has begun to close it; other errors stay errors either way.
func TestClosingQuietsClosedSocketErrors(t *testing.T) {
	var buf bytes.Buffer
	var closing atomic.Bool
	w := &Writer{Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), Source: "memberlist", Closing: &closing}
	closed := "[ERR] memberlist: Failed to send gossip to 127.0.0.1:1: write udp 127.0.0.1:2->127.0.0.1:1: use of closed network connection"
	other := "[ERR] memberlist: Failed to send gossip to 127.0.0.1:1: write udp: connection refused"
	levels := func() []string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var rec struct{ Level string }
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatal(err)
			}
			out = append(out, rec.Level)
		}
		buf.Reset()
		return out
	}
	w.Write([]byte(closed))
	w.Write([]byte(other))
	if got := levels(); got[0] != "ERROR" || got[1] != "ERROR" {
		t.Fatalf("while running: %v, want both ERROR", got)
	}
	closing.Store(true)
	w.Write([]byte(closed))
	w.Write([]byte(other))
	if got := levels(); got[0] != "DEBUG" || got[1] != "ERROR" {
		t.Fatalf("while closing: %v, want DEBUG then ERROR", got)
	}
}
