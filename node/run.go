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
	"os"
	"time"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/federation/replica"
	"github.com/fengqiao/fengqiao/federation/tlsutil"
	"github.com/fengqiao/fengqiao/node/api"
)

// RunOptions are what a config file does not hold.
type RunOptions struct {
	Logger     *slog.Logger
	Out        io.Writer // the "CODE NAME URL" line goes here
	AdminToken string    // on first start, the leader issues this center_admin token
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
	keys, err := core.ReadKeyFile(c.KeyFile)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.HTTP)
	if err != nil {
		return fmt.Errorf("node: listen %s: %w", c.HTTP, err)
	}
	defer ln.Close()
	scheme := "http"
	var raftTLS, clientTLS *tls.Config
	if c.TLS.Enabled() {
		srvTLS, err := tlsutil.Server(c.TLS)
		if err != nil {
			return err
		}
		if raftTLS, err = tlsutil.Mutual(c.TLS); err != nil {
			return err
		}
		if clientTLS, err = tlsutil.Client(c.TLS.CA); err != nil {
			return err
		}
		ln, scheme = tls.NewListener(ln, srvTLS), "https"
	}
	var servers []raft.Server
	peers := map[string]string{}
	for _, p := range c.Peers {
		servers = append(servers, raft.Server{ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.Raft)})
		peers[p.Raft] = scheme + "://" + p.HTTP
	}
	m := newMetrics()
	timeout := 500 * time.Millisecond
	if c.RaftTimeoutMS > 0 {
		timeout = time.Duration(c.RaftTimeoutMS) * time.Millisecond
	}
	r, err := replica.Open(replica.Config{ID: c.NodeID, Dir: c.DataDir, Bind: c.Raft, Bootstrap: servers, Logger: log,
		OnApply: m.onApply, OnCommit: m.onCommit, TLS: raftTLS, Timeout: timeout})
	if err != nil {
		return err
	}
	defer r.Close()
	m.watchRaft(r)
	store := core.New(r.Engine, r.Proposer(), core.Options{Keyring: keys, Logger: log})
	go r.RunLeaderLoops(ctx, store, nil, time.Minute)
	go seedWhenLeader(ctx, r, store, c.Jurisdiction, o.AdminToken, log)
	name := c.Jurisdiction
	if d, err := divisionName(c.Jurisdiction); err == nil {
		name = d
	}
	fmt.Fprintf(o.Out, "%s %s %s://%s\n", c.Jurisdiction, name, scheme, ln.Addr())
	a := api.New(&backend{county: c.Jurisdiction, r: r, s: store, peers: peers}, log)
	a.Observe = m.observe
	return serveHTTP(ctx, ln, m.handler(&forwarder{next: a, r: r, peers: peers, tls: clientTLS}))
}

// seedWhenLeader loads the county and issues the admin token once a leader
// exists, if this replica is it. Both steps are idempotent.
func seedWhenLeader(ctx context.Context, r *replica.Replica, s *core.Store, county, token string, log *slog.Logger) {
	for ctx.Err() == nil {
		if r.ReadBarrier() != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		sctx := core.WithActor(ctx, "bootstrap")
		if j, err := s.Jurisdictions.Get(county); err != nil || !j.HasBounds {
			if _, err := s.Jurisdictions.LoadCounty(sctx, county, 2); err != nil {
				log.Warn("loading the county failed; will retry", "err", err)
				time.Sleep(time.Second)
				continue
			}
			log.Info("county loaded", "county", county)
		}
		if token != "" {
			if _, _, err := s.Tokens.Create(sctx, "admin", core.RoleCenterAdmin, county, token); err != nil && !errors.Is(err, errs.ErrConflict) {
				log.Warn("issuing the admin token failed; will retry", "err", err)
				time.Sleep(time.Second)
				continue
			}
		}
		return
	}
}

func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
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
