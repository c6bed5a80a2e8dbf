package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fengqiao/fengqiao/core/keyfile"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/divisions"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
	"github.com/fengqiao/fengqiao/federation/membership"
	"github.com/fengqiao/fengqiao/federation/replica"
	"github.com/fengqiao/fengqiao/federation/tlsutil"
	"github.com/fengqiao/fengqiao/node/api"
	"github.com/fengqiao/fengqiao/node/console"
)

// RunOptions are what a config file does not hold.
type RunOptions struct {
	Logger     *slog.Logger
	Out        io.Writer // the "CODE NAME URL" line goes here
	AdminToken string    // on first start, the leader issues this security_admin bootstrap token
	// AdminTOTP is the bootstrap token's TOTP secret (base32); "" makes a
	// fresh one, printed once to Out.
	AdminTOTP string
}

// Run runs one replica of a jurisdiction's group from its config until ctx
// ends. Every replica bootstraps with the same peer list (safe: only an
// empty log is bootstrapped); the first leader loads the county's divisions
// and derived grids and issues the admin token.
func Run(ctx context.Context, c *Config, o RunOptions) error {
	if err := c.Validate(); err != nil {
		return err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	log = log.With("node", c.NodeID)
	if o.Out == nil {
		o.Out = os.Stdout
	}
	keyFile, err := os.ReadFile(c.KeyFile) // the watcher compares later contents with these
	if err != nil {
		return fmt.Errorf("node: read key file: %w", err)
	}
	keys, err := keyfile.Parse(c.KeyFile, keyFile)
	if err != nil {
		return err
	}
	// Which generation seals, so a rotation's rollout can be checked per replica.
	log.Info("sealing keys loaded", "cipher", keys.Suite(), "current", keys.KeyID(), "generations", keys.Generations())
	ln, err := net.Listen("tcp", c.HTTP)
	if err != nil {
		return fmt.Errorf("node: listen %s: %w", c.HTTP, err)
	}
	defer ln.Close()
	scheme := "http"
	var raftTLS, clientTLS *tls.Config
	// Outgoing TLS dials through these, so a new CA bundle is followed.
	var mutualDial, clientDial func(ctx context.Context, network, addr string) (net.Conn, error)
	var certs *tlsutil.Certs
	var listenMutual func(net.Listener) net.Listener
	// The Raft port's own: only this group's replicas, by their
	// certificates' names (tlsutil.ReplicaName).
	var raftDial func(ctx context.Context, network, addr string) (net.Conn, error)
	var raftListen func(net.Listener) net.Listener
	m := newMetrics()
	var rep atomic.Pointer[replica.Replica] // set once open; the group's members are read from it
	groupCheck := tlsutil.GroupCheck(c.Jurisdiction, func(id string) bool {
		if slices.ContainsFunc(c.Peers, func(p PeerConfig) bool { return p.ID == id }) {
			return true
		}
		r := rep.Load()
		return r != nil && r.Member(id)
	}, func(remote net.Addr, names string) {
		m.peersRefused.Inc()
		log.Warn("refused a peer on the Raft port: its certificate names no replica of this group", "remote", remote.String(), "certificate", names)
	})
	if c.TLS.Enabled() {
		// Renewed certificates and CA bundles are picked up from their files;
		// say so, or why not.
		certs, err = tlsutil.ReloadingEvery(c.TLS, c.reloadEvery(), func(notAfter time.Time, err error) {
			if err != nil {
				log.Warn("TLS files changed but cannot be used; keeping the current certificate and CA", "err", err)
				return
			}
			log.Info("TLS files reloaded", "not_after", notAfter)
		})
		if err != nil {
			return err
		}
		raftTLS, clientTLS = certs.Mutual(), certs.Client()
		mutualDial, clientDial = certs.Dialer(true), certs.Dialer(false, "h2", "http/1.1")
		raftDial = certs.GroupDialer(groupCheck)
		// Listeners made here close what a new bundle stops trusting.
		listenMutual = func(ln net.Listener) net.Listener { return certs.Listener(ln, true) }
		raftListen = func(ln net.Listener) net.Listener { return certs.GroupListener(ln, groupCheck) }
		if c.apiTLS() {
			ln, scheme = certs.Listener(ln, false), "https"
		}
	}
	var servers []raft.Server
	peers := map[string]string{}
	for _, p := range c.Peers {
		servers = append(servers, raft.Server{ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.Raft)})
		peers[p.Raft] = scheme + "://" + p.HTTP
	}
	if certs != nil {
		m.watchCert(certs, log)
	}
	timeout := 500 * time.Millisecond
	if c.RaftTimeoutMS > 0 {
		timeout = time.Duration(c.RaftTimeoutMS) * time.Millisecond
	}
	rc := replica.Config{ID: c.NodeID, Dir: c.DataDir, Bind: c.Raft, Bootstrap: servers, Logger: log, AuditKeys: keys,
		OnApply: m.onApply, OnCommit: m.onCommit, TLS: raftTLS, DialTLS: raftDial, ListenTLS: raftListen, Timeout: timeout, SyncState: c.SyncState,
		CheckInterval: c.checkInterval()}
	// A forwarded command the leader refuses as a replay is logged by the
	// replica, and counted and audited here.
	var audited atomic.Pointer[core.Store]
	rc.OnRefused = func(peer, why string) {
		m.forwardRefused.Inc()
		if s := audited.Load(); s != nil {
			ev := state.AuditEvent{Kind: state.AuditReplayed, Remote: peer, Detail: why}
			if err := s.Audit.Record(core.WithActor(context.Background(), "replica:"+c.NodeID), ev); err != nil {
				log.Warn("a refused forwarded proposal could not be audited", "err", err)
			}
		}
	}
	if c.alone() {
		// A group of one opens no Raft or forwarding port: nothing outside
		// this process can propose.
		rc.Alone, rc.Bind, rc.TLS, rc.DialTLS, rc.ListenTLS = true, "", nil, nil, nil
		log.Info("a group of one replica: no Raft port is opened")
	}
	r, err := replica.Open(rc)
	if err != nil {
		return err
	}
	rep.Store(r)
	defer r.Close()
	m.watchRaft(r)
	// Administrators' tokens are enrolled in TOTP (a second factor).
	// One store per engine: the API and the leader's jobs share it, so they
	// share its caches. Its proposer forwards a follower's writes to the
	// leader; the jobs run only while this replica leads.
	store := core.New(r.Engine, r.ForwardingProposer(), core.Options{Keyring: keys, Logger: log, SecondFactor: true})
	audited.Store(store)
	m.watchKeys(store)
	var wg sync.WaitGroup
	defer wg.Wait() // before r.Close: the loops below use the replica
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if certs != nil {
		// New bundles reach open connections even when nothing handshakes.
		wg.Add(1)
		go func() {
			defer wg.Done()
			certs.Watch(ctx)
		}()
	}
	runWebhooks(ctx, &wg, r, store, log)
	wg.Add(2)
	go func() {
		defer wg.Done()
		r.RunLeaderLoops(ctx, store, c.jobOptions())
	}()
	go func() {
		defer wg.Done()
		seedWhenLeader(ctx, r, store, c, bootstrap{Secret: o.AdminToken, TOTP: o.AdminTOTP}, o.Out, log)
	}()
	d, err := division(c.Jurisdiction)
	if err != nil {
		return err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		watchKeyFile(ctx, c.KeyFile, keyFile, string(keys.Suite()), c.reloadEvery(), log, store)
	}()
	chain := &chainCheck{}
	m.watchChain(chain)
	wg.Add(1)
	go func() {
		defer wg.Done()
		chain.run(r.Engine, log)
	}()
	b := &backend{county: c.Jurisdiction, r: r, s: store, peers: peers, chain: chain}
	errc := make(chan error, 4) // federation exchange, pprof, metrics, API
	serve := func(ln net.Listener, h http.Handler) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- serveHTTP(ctx, ln, h)
		}()
	}
	if f := c.Federation; f != nil {
		fed, err := joinFederation(ctx, &wg, r, store, fedSetup{
			Member: membership.Config{Name: c.Jurisdiction + "/" + c.NodeID, Bind: f.Gossip, Advertise: f.Advertise, Keys: f.GossipKeys, Profile: f.Profile,
				Meta: membership.Meta{Jurisdiction: c.Jurisdiction, Tier: d.Tier, API: c.HTTP, Exchange: f.Exchange, Version: Version}},
			Join: f.Join, TLS: raftTLS, Dial: mutualDial, Logger: log,
		})
		if err != nil {
			return err
		}
		b.pool, b.ship = fed.pool, fed.ship
		m.watchFederation(store, fed)
		xln, err := net.Listen("tcp", f.Exchange)
		if err != nil {
			return fmt.Errorf("node: listen %s: %w", f.Exchange, err)
		}
		serve(listenMutual(xln), fed.rcv) // federation requires TLS (Validate)
	}
	if c.Pprof != "" {
		pln, err := net.Listen("tcp", c.Pprof)
		if err != nil {
			return fmt.Errorf("node: listen pprof %s: %w", c.Pprof, err)
		}
		serve(pln, pprofMux())
	}
	fmt.Fprintf(o.Out, "%s %s %s://%s\n", c.Jurisdiction, d.Name, scheme, ln.Addr())
	a := api.New(b, log)
	a.Console = console.Handler()
	a.Observe = m.observe
	if c.PluginDir != "" {
		mgr, err := runPlugins(ctx, &wg, r, store, c.PluginDir, log, m)
		if err != nil {
			return err
		}
		a.Plugins = mgr
	}
	fw, err := newForwarder(a, r, peers, clientTLS, clientDial)
	if err != nil {
		return err
	}
	a.OnAuth = m.onAuth
	if c.Metrics != "" {
		// Prometheus scrapes its own address; the API serves no /metrics.
		mln, err := net.Listen("tcp", c.Metrics)
		if err != nil {
			return fmt.Errorf("node: listen metrics %s: %w", c.Metrics, err)
		}
		serve(mln, m.handler(http.NotFoundHandler()))
		serve(ln, fw)
	} else {
		serve(ln, m.handler(fw))
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}

// seedWhenLeader loads the jurisdiction, applies the federation links and
// issues the admin token once a leader exists, if this replica is it. Every
// step is idempotent.
func seedWhenLeader(ctx context.Context, r *replica.Replica, s *core.Store, c *Config, boot bootstrap, out io.Writer, log *slog.Logger) {
	for ctx.Err() == nil {
		if r.ReadBarrier() != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if err := seedOnce(core.WithActor(ctx, "bootstrap"), s, c, boot, out, log); err != nil {
			log.Warn("seeding failed; will retry", "err", err)
			time.Sleep(time.Second)
			continue
		}
		return
	}
}

func seedOnce(ctx context.Context, s *core.Store, c *Config, boot bootstrap, out io.Writer, log *slog.Logger) error {
	// Keyed from the first record on (core/chainkey.go).
	if _, err := s.KeyAuditChain(ctx); err != nil {
		return err
	}
	if j, err := s.Jurisdictions.Get(c.Jurisdiction); err != nil || !j.HasBounds {
		if err := loadJurisdiction(ctx, s, c.Jurisdiction, 2); err != nil {
			return err
		}
		log.Info("jurisdiction loaded", "jurisdiction", c.Jurisdiction)
		// A new group starts with the roles split; one made by an older
		// version splits them explicitly (fengqiao token split-roles).
		if err := markRolesSplit(ctx, s); err != nil {
			return err
		}
	}
	if c.Federation != nil {
		want := model.FederationConfig{Self: c.Jurisdiction, Links: c.Federation.Links, MaxOutbox: c.Federation.MaxOutbox}
		if cur, err := s.Federation.Config(); err != nil || !reflect.DeepEqual(cur, want) {
			if err := s.Federation.Configure(ctx, want); err != nil {
				return err
			}
			log.Info("federation links applied", "links", len(want.Links))
		}
	}
	if boot.Secret != "" {
		// The bootstrap token is a security administrator's, with a second
		// factor, and expires: it issues the other administrators and is
		// then left to lapse. Only a group without tokens takes it.
		is, err := s.Tokens.Bootstrap(ctx, core.TokenSpec{Name: "bootstrap", Role: access.SecurityAdmin, Scope: c.Jurisdiction,
			Secret: boot.Secret, TOTPSecret: boot.TOTP, TTL: c.bootstrapTTL()})
		switch {
		case errors.Is(err, state.ErrBootstrapped): // issued on an earlier start, or the group has moved on
		case err != nil:
			return err
		case is.TOTP != nil && boot.TOTP == "":
			// Shown once, as Vault shows its root token at init.
			fmt.Fprintf(out, "bootstrap token (security_admin, expires %s): enrol its TOTP secret %s in an authenticator now (%s)\n",
				is.Token.ExpiresAt.Format(time.RFC3339), is.TOTP.Secret, is.TOTP.URL)
		}
	}
	return nil
}

// bootstrap is the token the leader issues on a new group's first start.
type bootstrap struct {
	Secret string // FENGQIAO_TOKEN
	TOTP   string // FENGQIAO_TOTP_SECRET: its second factor; "" makes one, printed once
}

// markRolesSplit marks a new group's administrative roles as split.
func markRolesSplit(ctx context.Context, s *core.Store) error {
	if _, err := s.Tokens.SplitRoles(ctx, ""); err != nil && !errors.Is(err, state.ErrRolesSplit) {
		return err
	}
	return nil
}

// loadJurisdiction loads a group's divisions: a county with its derived
// grids (side×side per village), a township its county's, a city or
// province its whole subtree.
func loadJurisdiction(ctx context.Context, s *core.Store, code string, side int) error {
	d, err := division(code)
	if err != nil {
		return err
	}
	switch d.Tier {
	case divisions.County:
		_, err = s.Jurisdictions.LoadCounty(ctx, code, side)
	case divisions.Township:
		_, err = s.Jurisdictions.LoadCounty(ctx, d.Parent, side)
	default:
		err = s.Jurisdictions.LoadSubtree(ctx, code)
	}
	return err
}

// pprofMux serves net/http/pprof's handlers on their usual paths, on a mux of
// its own so they never reach the API listener.
func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute,
		// Requests end with the node: a live stream would otherwise hold
		// Shutdown for its whole timeout.
		BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}
