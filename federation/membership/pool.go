// Package membership is the federation's gossip pool (hashicorp/memberlist):
// every replica of every jurisdiction joins it and advertises its code, tier,
// whether it leads its group, its API and exchange addresses and its version.
// From that each member keeps a view of who leads every jurisdiction, which
// the exchange uses to find a receiver and operators read through
// `fengqiao federation members`. Gossip is always encrypted with a keyring.
package membership

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/federation/internal/logline"
)

// Config starts a pool member.
type Config struct {
	Name string // unique in the federation; by convention "CODE/REPLICA", e.g. "500110/r0"
	Bind string // gossip address host:port (UDP and TCP); ":0" picks a port
	// Advertise, if set, is the address others reach this member at.
	Advertise string
	Meta      Meta
	// Keys are base64 gossip keys; the first is the primary. Required.
	Keys []string
	// Profile tunes timers: "lan" (default), "wan", or "local" (tests).
	Profile string
	Logger  *slog.Logger
}

// Pool is this process's membership in the federation pool.
type Pool struct {
	ml      *memberlist.Memberlist
	keyring *memberlist.Keyring
	log     *slog.Logger
	closing atomic.Bool // set before memberlist shuts down (see logline.Writer)

	mu      sync.Mutex
	meta    Meta
	refused map[string]string // member name → why its meta was refused
	members map[string]Member // live members with valid meta, by name
}

// Start creates the member and begins gossiping; call Join to meet the pool.
func Start(cfg Config) (*Pool, error) {
	if cfg.Name == "" {
		return nil, errs.Invalid("name", "required", "a member needs a name unique in the federation")
	}
	if _, err := cfg.Meta.encode(); err != nil {
		return nil, err
	}
	kr, err := newKeyring(cfg.Keys)
	if err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var mc *memberlist.Config
	switch cfg.Profile {
	// Gossip spreads a leader claim in well under a second, but a lost UDP
	// packet is only healed by push/pull anti-entropy; memberlist's 30 s
	// default would let a stale leader view linger, so ours is shorter.
	// (memberlist lengthens it on its own as the pool grows past 32.)
	case "", "lan":
		mc = memberlist.DefaultLANConfig()
		mc.PushPullInterval = 2 * time.Second
	case "wan":
		mc = memberlist.DefaultWANConfig()
	case "local":
		mc = memberlist.DefaultLocalConfig()
		mc.PushPullInterval = time.Second
	default:
		return nil, errs.Invalid("profile", "enum", "profile must be lan, wan or local, got %q", cfg.Profile)
	}
	host, port, err := splitAddr("bind", cfg.Bind)
	if err != nil {
		return nil, err
	}
	mc.Name, mc.BindAddr, mc.BindPort = cfg.Name, host, port
	mc.AdvertisePort = port
	if cfg.Advertise != "" {
		if mc.AdvertiseAddr, mc.AdvertisePort, err = splitAddr("advertise", cfg.Advertise); err != nil {
			return nil, err
		}
	}
	mc.Keyring = kr
	mc.GossipVerifyIncoming, mc.GossipVerifyOutgoing = true, true
	p := &Pool{keyring: kr, log: cfg.Logger, meta: cfg.Meta, refused: map[string]string{}, members: map[string]Member{}}
	mc.Logger = log.New(&logline.Writer{Logger: cfg.Logger, Source: "memberlist", Closing: &p.closing}, "", 0)
	mc.Delegate = (*delegate)(p)
	mc.Alive = (*delegate)(p)
	mc.Events = (*delegate)(p)
	if p.ml, err = memberlist.Create(mc); err != nil {
		return nil, fmt.Errorf("membership: start %s: %w", cfg.Bind, err)
	}
	return p, nil
}

func splitAddr(field, addr string) (string, int, error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, errs.Invalid(field, "host_port", "want host:port, got %q", addr)
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, errs.Invalid(field, "port", "bad port in %q", addr)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return host, port, nil
}

// Addr is the gossip address others join.
func (p *Pool) Addr() string {
	n := p.ml.LocalNode()
	return net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
}

// Join contacts seeds (gossip addresses) and merges their view; it succeeds
// when any one answers.
func (p *Pool) Join(seeds []string) error {
	if _, err := p.ml.Join(seeds); err != nil {
		return fmt.Errorf("membership: join %v: %w: %w", seeds, errs.ErrUnavailable, err)
	}
	return nil
}

// RetryJoin joins in the background until one seed answers or ctx ends, as
// Consul's retry_join does: members may start in any order.
func (p *Pool) RetryJoin(ctx context.Context, seeds []string, every time.Duration) {
	if len(seeds) == 0 {
		return
	}
	for attempt := 1; ; attempt++ {
		err := p.Join(seeds)
		if err == nil {
			p.log.Info("joined the federation pool", "members", p.ml.NumMembers())
			return
		}
		p.log.Warn("join failed; retrying", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// SetLeader updates this member's leader claim and gossips it at once.
func (p *Pool) SetLeader(leading bool, term uint64) error {
	p.mu.Lock()
	p.meta.Leader, p.meta.Term = leading, term
	p.mu.Unlock()
	if err := p.ml.UpdateNode(5 * time.Second); err != nil {
		return fmt.Errorf("membership: advertise leader=%v: %w", leading, err)
	}
	return nil
}

// Leadership is the part of a replica a pool member follows.
type Leadership interface {
	// WhileLeader runs fn for each spell of leadership (replica.WhileLeader).
	WhileLeader(ctx context.Context, fn func(ctx context.Context))
	// Term is the current Raft term.
	Term() uint64
}

// Follow advertises src's leadership until ctx ends.
func (p *Pool) Follow(ctx context.Context, src Leadership) {
	src.WhileLeader(ctx, func(lctx context.Context) {
		term := src.Term()
		if err := p.SetLeader(true, term); err != nil {
			p.log.Warn("advertise leadership", "err", err)
		}
		<-lctx.Done()
		if ctx.Err() != nil {
			return // shutting down: Close leaves the pool, which says more
		}
		if err := p.SetLeader(false, term); err != nil {
			p.log.Warn("withdraw leadership", "err", err)
		}
	})
}

// Close leaves the pool gracefully (others see "left", not "dead") and stops.
func (p *Pool) Close() error {
	err := p.ml.Leave(2 * time.Second)
	p.closing.Store(true)
	if serr := p.ml.Shutdown(); err == nil {
		err = serr
	}
	return err
}

// Kill stops gossiping without leaving, as a crash would (tests, benchmarks).
func (p *Pool) Kill() error {
	p.closing.Store(true)
	return p.ml.Shutdown()
}

// Member is one pool member as this member sees it.
type Member struct {
	Name string `json:"name"`
	Addr string `json:"addr"` // gossip address
	Meta
}

// Members lists the live members by jurisdiction then name. Members whose
// meta was refused are not listed. It reads the copy the event delegate
// keeps: memberlist's own nodes change under it.
func (p *Pool) Members() []Member {
	p.mu.Lock()
	out := make([]Member, 0, len(p.members))
	for _, m := range p.members {
		out = append(out, m)
	}
	p.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Jurisdiction != out[j].Jurisdiction {
			return out[i].Jurisdiction < out[j].Jurisdiction
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Leaders is this member's view of who leads each jurisdiction.
func (p *Pool) Leaders() map[string]Member { return Leaders(p.Members()) }

// Leaders picks each jurisdiction's leader from ms. When two members claim
// a jurisdiction (a deposed leader not yet heard from), the claim with the
// higher Raft term wins.
func Leaders(ms []Member) map[string]Member {
	out := map[string]Member{}
	for _, m := range ms {
		if !m.Leader {
			continue
		}
		if cur, ok := out[m.Jurisdiction]; !ok || m.Term > cur.Term {
			out[m.Jurisdiction] = m
		}
	}
	return out
}

// ExchangeAddrs returns code's exchange addresses, the leader first, for
// exchange.HTTPTransport.Resolve.
func (p *Pool) ExchangeAddrs(code string) []string {
	ms := p.Members() // one snapshot per send: the shipper calls this for every batch
	leader, ok := Leaders(ms)[code]
	var out []string
	if ok {
		out = append(out, leader.Exchange)
	}
	for _, m := range ms {
		if m.Jurisdiction == code && m.Name != leader.Name {
			out = append(out, m.Exchange)
		}
	}
	return out
}

// Refused lists members whose meta this member refused, with the reason.
func (p *Pool) Refused() map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]string, len(p.refused))
	for k, v := range p.refused {
		out[k] = v
	}
	return out
}
