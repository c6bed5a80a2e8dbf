package replica

import (
	"fmt"
	"sync"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/state"
)

// Forwarded commands are checked on the leader before they are proposed
// (an input rule, never apply's). Only the group's replicas can forward at
// all (the Raft port's certificate check), and TLS prevents replay on the
// wire, so what is left is a member that sends a command again: a fault or
// a compromised replica. A command with an idempotency key may come again
// by design (apply answers it with the first result); any other command's
// id is random, and seeing it twice within the window, or a command stamped
// outside the window, is refused, logged and reported (Config.OnRefused).

// replayWindow is how far a forwarded command's time may stand from the
// leader's clock, and how long its id is remembered.
const replayWindow = 10 * time.Minute

// maxRemembered bounds the ids remembered; past it the oldest go first.
const maxRemembered = 1 << 20

// ErrReplayed marks a forwarded command refused as a replay, or stamped
// outside the window. It wraps errs.ErrConflict; nothing was proposed.
var ErrReplayed = errs.Conflict("command", "replayed", "the leader refused a forwarded command seen before, or stamped too far from its clock")

type replayGuard struct {
	mu    sync.Mutex
	seen  map[string]time.Time // command id → when first seen
	order []string             // ids in the order seen, to forget the oldest
}

// admit checks the encoded commands of one forwarded proposal and, when all
// pass, remembers their ids. It returns why it refuses.
func (g *replayGuard) admit(data [][]byte, now time.Time) error {
	ids := make([]string, 0, len(data))
	for i, raw := range data {
		c, err := state.DecodeCommand(raw)
		if err != nil {
			return fmt.Errorf("command %d: %w", i, err)
		}
		if d := now.Sub(c.At); d > replayWindow || d < -replayWindow {
			return fmt.Errorf("command %s is stamped %s, more than %s from the leader's clock", c.ID, c.At.Format(time.RFC3339), replayWindow)
		}
		if !state.KeyedCommandID(c.ID) {
			ids = append(ids, c.ID)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.seen == nil {
		g.seen = map[string]time.Time{}
	}
	for len(g.order) > 0 && (now.Sub(g.seen[g.order[0]]) > 2*replayWindow || len(g.order) > maxRemembered) {
		delete(g.seen, g.order[0])
		g.order = g.order[1:]
	}
	// Remembered as checked, so an id twice in one proposal is caught too;
	// a refused proposal leaves no id behind.
	for i, id := range ids {
		if _, dup := g.seen[id]; dup {
			for _, added := range ids[:i] {
				delete(g.seen, added)
			}
			return fmt.Errorf("command %s was forwarded before", id)
		}
		g.seen[id] = now
	}
	g.order = append(g.order, ids...)
	return nil
}

// refusedError is what the leader answered a refused proposal with.
func refusedError(msg string) error {
	return &errs.FieldError{Kind: ErrReplayed, Field: "command", Rule: "replayed", Msg: msg}
}
