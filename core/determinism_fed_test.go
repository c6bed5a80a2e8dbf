package core

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// TestDeterministicFederatedApply drives three linked jurisdictions with a
// random mix of events, escalations, dispatches, rollups, cases, handovers
// and deliveries in every direction, then replays each one's commands in
// different batch groupings. A Raft leader and its followers group entries
// differently, so a handler that reads past the transaction's buffers (say,
// a counter before its buffered bump) would show up here as a digest
// mismatch.
func TestDeterministicFederatedApply(t *testing.T) {
	n := 1500
	if testing.Short() {
		n = 500
	}
	county := fedEnv(t, "511083", model.Link{Peer: "511000", Relation: model.RelParent}, model.Link{Peer: "500153", Relation: model.RelPeer, Share: []string{model.SharePersonIdentity}})
	city := fedEnv(t, "511000", model.Link{Peer: "511083", Relation: model.RelChild})
	peer := fedEnv(t, "500153", model.Link{Peer: "511083", Relation: model.RelPeer, Share: []string{model.SharePersonIdentity}})
	all := []*env{county, city, peer}
	rng := rand.New(rand.NewSource(7))
	pick := func(s []string) string { return s[rng.Intn(len(s))] }
	var events, tasks, cases, people, handovers []string
	actions := []string{"accept", "dispatch", "sign", "resolve", "escalate", "supervise", "comment", "reject"}
	for i := 0; i < n; i++ {
		var err error
		switch r := rng.Intn(100); {
		case r < 25 || len(events) == 0:
			var ev *model.Event
			ev, err = county.Events.Report(county.ctx, model.Report{Category: pick([]string{"dispute", "sanitation"}), Description: fmt.Sprint("事件", i), Grid: "511083001001001"})
			if err == nil {
				events = append(events, ev.ID)
			}
		case r < 45:
			passed := rng.Intn(2) == 0
			_, err = county.Events.Act(county.ctx, pick(events), model.Action{Action: pick(actions), Handler: "镇综治办", Note: "n", Reason: "r", Passed: &passed})
		case r < 52:
			var ev *model.Event
			ev, err = city.Events.Report(city.ctx, model.Report{Category: "sanitation", Description: fmt.Sprint("交办", i), Jurisdiction: "511083001"})
			if err == nil {
				tasks = append(tasks, ev.ID)
			}
		case r < 58 && len(tasks) > 0:
			a := pick([]string{"accept", "dispatch", "supervise"})
			_, err = city.Events.Act(city.ctx, pick(tasks), model.Action{Action: a, Handler: "511083"})
		case r < 63:
			err = pick2(rng, county, city).Federation.SendRollup(county.ctx)
		case r < 66:
			var cs *model.Case
			cs, err = county.Cases.Open(county.ctx, fmt.Sprint("交界纠纷", i), "双方争执", []string{"500153"})
			if err == nil {
				cases = append(cases, cs.ID)
			}
		case r < 72 && len(cases) > 0:
			e := pick2(rng, county, peer)
			_, err = e.Cases.AddEntry(e.ctx, pick(cases), fmt.Sprint("记录", i))
		case r < 75:
			var p *model.Person
			p, err = county.People.Add(county.ctx, model.PersonInput{Name: "居民", IDNumber: idNumber(i), Kind: "registered", Jurisdiction: "511083001001"})
			if err == nil {
				people = append(people, p.ID)
			}
		case r < 78 && len(people) > 0:
			var h *model.Handover
			h, err = county.Handovers.Open(county.ctx, pick(people), "500153", county.clock.Now().Add(48*time.Hour), "迁居")
			if err == nil {
				handovers = append(handovers, h.ID)
			}
		case r < 80 && len(handovers) > 0:
			_, err = peer.Handovers.Accept(peer.ctx, pick(handovers))
		case r < 81 && len(people) > 0:
			// A reseal swap, sealed before it is proposed like any seal.
			id := pick(people)
			var p *model.Person
			if p, err = county.People.Get(id); err == nil {
				fresh, _ := county.keyring().Seal([]byte("居民"), "person/"+id+"/name")
				_, err = county.apply(county.ctx, "keys.reseal", "", state.ResealPayload{Items: []state.ResealItem{{Kind: "person", Key: []byte(id), Field: "name", Old: p.NameSealed, New: fresh}}})
			}
		case r < 82:
			_, err = county.Events.Sweep(county.ctx, county.clock.Now().Add(time.Duration(rng.Intn(200))*time.Hour))
		default:
			// Deliver one link's backlog; a partial ack now and then
			// leaves some messages to be sent again.
			from, to := all[rng.Intn(3)], all[rng.Intn(3)]
			if from != to {
				pumpSome(t, rng, from, to)
			}
		}
		_ = err // rejections are part of the workload
		for _, e := range all {
			e.clock.Set(e.clock.Now().Add(time.Duration(rng.Intn(600)) * time.Second))
		}
	}
	// End with figures sent right after reports, left unacknowledged, so
	// the outbox still holds what each rollup read.
	for i := 0; i < 3; i++ {
		county.Events.Report(county.ctx, model.Report{Category: "dispute", Description: "收尾", Grid: "511083001001001"})
		if err := county.Federation.SendRollup(county.ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range all {
		for _, seed := range []int64{1, 2} {
			b, _ := replayBatched(t, e.rec.data, seed)
			if want, got := mustDigest(t, e.Engine()), mustDigest(t, b); want != got {
				t.Fatalf("%s: %d commands replayed in other batches give digest %s, want %s", selfOf(t, e), len(e.rec.data), got[:12], want[:12])
			}
		}
	}
	if figs, _ := city.Federation.Rollups(); len(figs) == 0 {
		t.Fatal("the workload delivered no rollup; it does not exercise the exchange")
	}
}

func pick2(rng *rand.Rand, a, b *env) *env {
	if rng.Intn(2) == 0 {
		return a
	}
	return b
}

// pumpSome ships from's backlog for to and acknowledges all or part of it.
func pumpSome(t *testing.T, rng *rand.Rand, from, to *env) {
	t.Helper()
	msgs, err := from.Federation.Pending(selfOf(t, to), 1+rng.Intn(20))
	if err != nil || len(msgs) == 0 {
		return
	}
	wire, err := from.Federation.Outgoing(msgs)
	if err != nil {
		t.Fatal(err)
	}
	res, err := to.Federation.Receive(to.ctx, selfOf(t, from), wire)
	if err != nil {
		return // a refused message stays queued; the workload goes on
	}
	ack := res.Ack
	if rng.Intn(4) == 0 && ack > 0 {
		ack--
	}
	from.Federation.Ack(from.ctx, selfOf(t, to), ack)
}
