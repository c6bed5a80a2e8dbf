package node

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/federation/exchange"
	"github.com/fengqiao/fengqiao/federation/membership"
	"github.com/fengqiao/fengqiao/federation/replica"
)

// Version is what a node advertises in the federation pool.
var Version = "0.4.0-dev"

// federation is one replica's part in the federation: its pool member, the
// shipper its group's leader runs, and the receiver its exchange listener
// serves.
type federation struct {
	pool *membership.Pool
	ship *exchange.Shipper
	rcv  *exchange.Receiver
	log  *slog.Logger
}

// fedSetup says how a replica joins the federation.
type fedSetup struct {
	Member membership.Config // Meta.Leader is managed here
	Join   []string          // gossip seeds; retried until one answers
	TLS    *tls.Config       // mutual TLS for the exchange, both ways
	// Dial, if set, makes the exchange's TLS connections with the CA bundle
	// in use at each dial (tlsutil.Certs.Dialer).
	Dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	Rollups time.Duration // how often the leader sends its figures up (default 1 min)
	Logger  *slog.Logger
}

// joinFederation starts r's pool member and its leader duties (shipping the
// outbox, rollups, handover deadlines) until ctx ends. Receivers are found
// through the pool: the leader first, then any other replica, which forwards.
func joinFederation(ctx context.Context, wg *sync.WaitGroup, r *replica.Replica, s *core.Store, f fedSetup) (*federation, error) {
	if f.Logger == nil {
		f.Logger = slog.New(slog.DiscardHandler)
	}
	f.Member.Logger = f.Logger
	pool, err := membership.Start(f.Member)
	if err != nil {
		return nil, err
	}
	if f.Rollups <= 0 {
		f.Rollups = time.Minute
	}
	self := f.Member.Meta.Jurisdiction
	tr := exchange.NewHTTPTransport(pool.ExchangeAddrs, f.TLS, f.Dial)
	fed := &federation{
		pool: pool,
		log:  f.Logger,
		ship: exchange.NewShipper(s, tr, exchange.ShipperOptions{Logger: f.Logger}),
		rcv: &exchange.Receiver{Store: s, Client: tr.Client, Leader: func() string {
			return pool.Leaders()[self].Exchange
		}},
	}
	wg.Add(3)
	go func() {
		defer wg.Done()
		pool.RetryJoin(ctx, f.Join, 2*time.Second)
	}()
	go func() {
		defer wg.Done()
		pool.Follow(ctx, r)
		pool.Close()
	}()
	go func() {
		defer wg.Done()
		r.WhileLeader(ctx, func(lctx context.Context) { fed.leaderDuties(lctx, s, f.Rollups) })
	}()
	return fed, nil
}

// WitnessEvery is how often a leader sends its audit chain's head to the
// parent jurisdiction as a witness (when the chain moved).
const WitnessEvery = 30 * time.Second

// leaderDuties runs on the group's leader only: a new leader resumes from
// the replicated outbox, and receivers deduplicate whatever is resent.
func (fed *federation) leaderDuties(ctx context.Context, s *core.Store, every time.Duration) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		fed.ship.Run(ctx)
	}()
	tk := time.NewTicker(every)
	defer tk.Stop()
	// The chain head goes up at least once a minute (core/witness.go).
	wt := time.NewTicker(min(every, WitnessEvery))
	defer wt.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wt.C:
			if _, err := s.Federation.SendWitness(ctx); err != nil && ctx.Err() == nil {
				fed.log.Warn("audit chain head not sent to the parent; next tick retries", "err", err)
			}
		case <-tk.C:
			if err := s.Federation.SendRollup(ctx); err != nil && ctx.Err() == nil {
				fed.log.Warn("rollup not sent; next tick retries", "err", err)
			}
			if _, err := s.Handovers.Sweep(ctx); err != nil && ctx.Err() == nil {
				fed.log.Warn("handover deadline sweep failed; next tick retries", "err", err)
			}
		}
	}
}
