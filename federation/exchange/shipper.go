package exchange

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/fengqiao/fengqiao/core"
)

// ShipperOptions tune a Shipper; zero values pick the defaults.
type ShipperOptions struct {
	BatchSize  int           // messages per batch (default 256)
	Idle       time.Duration // poll interval when a link is empty (default 20 ms)
	MinBackoff time.Duration // first retry delay (default 50 ms)
	MaxBackoff time.Duration // retry delay cap (default 5 s)
	Logger     *slog.Logger
}

// LinkStats is one link's transport record on this leader. Depth and the
// age of the oldest waiting message are replicated: core.Federation.Links.
type LinkStats struct {
	Peer      string    `json:"peer"`
	Shipped   uint64    `json:"shipped"`
	Acked     uint64    `json:"acked"`
	Failures  uint64    `json:"failures"`
	LastError string    `json:"last_error,omitempty"`
	LastAck   time.Time `json:"last_ack,omitzero"`
}

// Shipper ships one jurisdiction's outbox over every link. Run it only on the
// group's leader (replica.WhileLeader); a new leader resumes from the
// replicated outbox, and the receiver's deduplication absorbs any resend.
type Shipper struct {
	store *core.Store
	tr    Transport
	opt   ShipperOptions
	clock func() time.Time

	mu    sync.Mutex
	stats map[string]*LinkStats
}

// NewShipper builds a shipper for store over tr.
func NewShipper(store *core.Store, tr Transport, opt ShipperOptions) *Shipper {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 256
	}
	if opt.Idle <= 0 {
		opt.Idle = 20 * time.Millisecond
	}
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = 50 * time.Millisecond
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 5 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Shipper{store: store, tr: tr, opt: opt, clock: time.Now, stats: map[string]*LinkStats{}}
}

// Run ships until ctx ends, one goroutine per link; links added to the
// configuration later are picked up.
func (s *Shipper) Run(ctx context.Context) {
	var wg sync.WaitGroup
	running := map[string]bool{}
	defer wg.Wait()
	for {
		cfg, err := s.store.Federation.Config()
		if err == nil {
			for _, l := range cfg.Links {
				if !running[l.Peer] {
					running[l.Peer] = true
					wg.Add(1)
					go func(self, peer string) {
						defer wg.Done()
						s.runLink(ctx, self, peer)
					}(cfg.Self, l.Peer)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (s *Shipper) statLocked(peer string) *LinkStats {
	st, ok := s.stats[peer]
	if !ok {
		st = &LinkStats{Peer: peer}
		s.stats[peer] = st
	}
	return st
}

// Stats returns a copy of every link's state.
func (s *Shipper) Stats() []LinkStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]LinkStats, 0, len(s.stats))
	for _, st := range s.stats {
		out = append(out, *st)
	}
	return out
}

func (s *Shipper) runLink(ctx context.Context, self, peer string) {
	backoff := s.opt.MinBackoff
	for ctx.Err() == nil {
		n, err := s.shipOnce(ctx, self, peer)
		switch {
		case err != nil:
			s.mu.Lock()
			st := s.statLocked(peer)
			st.Failures++
			st.LastError = err.Error()
			s.mu.Unlock()
			s.opt.Logger.Debug("exchange send failed", "peer", peer, "err", err)
			// Full jitter: spread retries so a healed partition is not
			// hit by every sender at once.
			sleep(ctx, time.Duration(rand.Int64N(int64(backoff)))+time.Millisecond)
			backoff = min(2*backoff, s.opt.MaxBackoff)
		case n == 0:
			backoff = s.opt.MinBackoff
			sleep(ctx, s.opt.Idle)
		default:
			backoff = s.opt.MinBackoff
		}
	}
}

// shipOnce sends the next batch and trims the outbox by the acknowledgement.
// The outbox holds only what is unacknowledged, so it is also the cursor.
func (s *Shipper) shipOnce(ctx context.Context, self, peer string) (int, error) {
	msgs, err := s.store.Federation.Pending(peer, s.opt.BatchSize)
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	wire, err := s.store.Federation.Outgoing(msgs)
	if err != nil {
		return 0, err
	}
	res, err := s.tr.Send(ctx, peer, Batch{Origin: self, Messages: wire})
	if err != nil {
		return 0, err
	}
	switch first, last := msgs[0].Seq, msgs[len(msgs)-1].Seq; {
	case res.Ack > last:
		return 0, errors.New("exchange: acknowledgement beyond what was sent")
	case res.Ack < first:
		// Nothing taken: back off rather than spin.
		return 0, fmt.Errorf("exchange: %s made no progress (ack %d, next %d)", peer, res.Ack, first)
	}
	if err := s.store.Federation.Ack(ctx, peer, res.Ack); err != nil {
		return 0, err
	}
	s.mu.Lock()
	st := s.statLocked(peer)
	st.Shipped += uint64(len(msgs))
	st.Acked, st.LastAck, st.LastError = res.Ack, s.clock(), ""
	s.mu.Unlock()
	return len(msgs), nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
