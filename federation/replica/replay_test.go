package replica

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// A group member that sends a command again through the forwarding
// protocol is refused by the leader before anything is proposed: a command
// seen before, or stamped far from the leader's clock. A command with an
// idempotency key may come again: apply answers it with its first result.
func TestLeaderRefusesReplayedForwardedCommands(t *testing.T) {
	c, l, f, _ := countyCluster(t)
	var refused []string
	l.onRefused = func(peer, why string) { refused = append(refused, why) }
	fp := f.ForwardingProposer()
	ctx := context.Background()
	command := func(id string, at time.Time) []byte {
		payload, _ := json.Marshal(model.Report{Category: "dispute", Description: "replay", Grid: "511083001001001", Source: "resident"})
		raw, err := (&state.Command{Type: "event.report", Version: 1, ID: id, At: at, Actor: "token:x", Payload: payload}).Encode()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	once := command("replay-0001", time.Now().UTC())
	if res, err := fp.Propose(ctx, [][]byte{once}); err != nil || res[0].Err != nil {
		t.Fatalf("first: %v %v", err, res)
	}
	before := c.converged(l)
	twice := command("replay-0004", time.Now().UTC())
	for name, data := range map[string][][]byte{
		"the same command again":         {once},
		"a command from yesterday":       {command("replay-0002", time.Now().UTC().Add(-24*time.Hour))},
		"a command from tomorrow":        {command("replay-0003", time.Now().UTC().Add(24*time.Hour))},
		"one command twice in one batch": {twice, twice},
	} {
		_, err := fp.Propose(ctx, data)
		if !errors.Is(err, ErrReplayed) || !errors.Is(err, errs.ErrConflict) || errs.Field(err) != "command" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if after := c.converged(l); after != before {
		t.Fatal("refused commands changed the state")
	}
	if len(refused) != 4 || strings.Count(strings.Join(refused, "\n"), "forwarded before") != 2 {
		t.Fatalf("refusals reported: %q", refused)
	}
	// The refused batch left nothing behind: its command goes through alone.
	if res, err := fp.Propose(ctx, [][]byte{twice}); err != nil || res[0].Err != nil {
		t.Fatalf("after a refused batch: %v %v", err, res)
	}
	// Keyed: the retry is answered by apply with the first result.
	keyed := command("k-"+strings.Repeat("ab", 24), time.Now().UTC())
	for i := range 2 {
		res, err := fp.Propose(ctx, [][]byte{keyed})
		if err != nil {
			t.Fatalf("keyed %d: %v", i, err)
		}
		var dup *state.DuplicateError
		if i == 1 && !errors.As(res[0].Err, &dup) {
			t.Fatalf("the keyed retry: %v", res[0].Err)
		}
	}
}
