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
	Dial   func(ctx context.Context, network, addr string) (net.Conn, error)
	Logger *slog.Logger
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
		r.WhileLeader(ctx, func(lctx context.Context) { fed.ship.Run(lctx) })
	}()
	return fed, nil
}
