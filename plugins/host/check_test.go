package host

import (
	"context"
	"log/slog"
	"strings"
	"testing"
)

// The conformance kit passes a plugin that keeps the contract and names
// what breaks it in one that does not.
func TestCheck(t *testing.T) {
	ctx := context.Background()
	good, err := Check(ctx, regionBin(t, ""), nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if good.Failed() != 0 || good.Description == nil || len(good.Findings) < 8 {
		t.Fatalf("a plugin that keeps the contract: %+v", good.Findings)
	}
	for mode, want := range map[string]string{
		"garbage":     "plugin broke the protocol",
		"crash_call":  "exited",
		"crash_start": "start",
		"hang":        "deadline",
	} {
		rep, err := Check(ctx, regionBin(t, mode), nil, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range rep.Findings {
			found = found || !f.OK && (strings.Contains(strings.ToLower(f.Detail), strings.ToLower(want)) || strings.Contains(f.Hook, want))
		}
		if !found {
			t.Errorf("%s: no failure saying %q: %+v", mode, want, rep.Findings)
		}
	}
}
