// Package node composes core, federation and the API into a running
// Fengqiao node: the fengqiao binary (node/cmd/fengqiao) is a thin CLI over it.
package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fengqiao/fengqiao/core/keyfile"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/seal"
	"github.com/fengqiao/fengqiao/federation/replica"
	"github.com/fengqiao/fengqiao/node/api"
	"github.com/fengqiao/fengqiao/node/console"
	"github.com/fengqiao/fengqiao/plugins/host"
)

// DevCounty is the jurisdiction dev mode serves: 綦江区.
const DevCounty = "500110"

// DevOptions configure dev mode.
type DevOptions struct {
	HTTP   string       // listen address, default 127.0.0.1:8080
	Data   string       // data directory; "" makes a fresh temporary one, removed on exit
	Token  string       // admin token secret; "" generates one
	Logger *slog.Logger // default JSON to stderr at info
	Out    io.Writer    // where the token and URL are printed; default stdout
	// Plugins, when set, is a directory whose every executable is a plugin
	// to register and enable for the dev county, checksums taken on start.
	Plugins string
}

// RunDev runs one replica of 綦江区 with sample data until ctx ends.
func RunDev(ctx context.Context, o DevOptions) error {
	if o.HTTP == "" {
		o.HTTP = "127.0.0.1:8080"
	}
	// Dev mode has no TLS and a token that holds every role: it serves
	// this machine only.
	if err := loopback("http", o.HTTP); err != nil {
		return fmt.Errorf("node: serve --dev listens on loopback only (plain HTTP, a token with every role): %w", err)
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	data, cleanup, err := dataDir(o.Data, "fengqiao-dev-")
	if err != nil {
		return err
	}
	defer cleanup()
	o.Data = data
	ln, err := net.Listen("tcp", o.HTTP)
	if err != nil {
		return fmt.Errorf("node: listen %s: %w", o.HTTP, err)
	}
	defer ln.Close()
	keys, err := keyfile.LoadOrCreate(filepath.Join(o.Data, "keys.json"), seal.AES256GCM)
	if err != nil {
		return err
	}
	m := newMetrics()
	// A group of one: no Raft or forwarding port, so nothing outside this
	// process can propose.
	r, err := replica.Open(replica.Config{ID: "dev", Dir: o.Data, Alone: true, Logger: log, OnApply: m.onApply, OnCommit: m.onCommit, AuditKeys: keys})
	if err != nil {
		return err
	}
	defer r.Close()
	m.watchRaft(r)
	if err := r.Raft.BootstrapCluster(raft.Configuration{Servers: []raft.Server{{ID: "dev", Address: r.Addr}}}).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
		return fmt.Errorf("node: bootstrap: %w", err)
	}
	if err := waitReady(ctx, r); err != nil {
		return err
	}
	store := core.New(r.Engine, r.Proposer(), core.Options{Keyring: keys, Logger: log})
	sctx := core.WithActor(ctx, "dev-seed")
	// Keyed from the first record on (core/chainkey.go).
	if _, err := store.KeyAuditChain(sctx); err != nil {
		return err
	}
	if j, err := store.Jurisdictions.Get(DevCounty); err != nil || !j.HasBounds {
		start := time.Now()
		d, err := seedSample(sctx, store, DevCounty)
		if err != nil {
			return fmt.Errorf("node: sample data: %w", err)
		}
		log.Info("sample data loaded", "county", DevCounty, "grids", len(d.Grids), "ms", time.Since(start).Milliseconds())
		if err := markRolesSplit(sctx, store); err != nil {
			return err
		}
	}

	// The development root holds every role; only a --dev node accepts it.
	_, secret, err := store.Tokens.Create(sctx, "dev root", access.DevRoot, DevCounty, o.Token)
	if err != nil && !errors.Is(err, errs.ErrConflict) {
		return fmt.Errorf("node: admin token: %w", err)
	}
	go r.RunLeaderLoops(ctx, store, core.JobOptions{})
	var plugins *host.Manager
	var wg sync.WaitGroup
	defer wg.Wait() // before r.Close: the plugin manager uses the replica
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runWebhooks(ctx, &wg, r, store, log)
	if o.Plugins != "" {
		if plugins, err = runPlugins(ctx, &wg, r, store, o.Plugins, log, m); err != nil {
			return err
		}
		if err := devPlugins(sctx, store, plugins, o.Plugins, DevCounty, r.ID, o.Out); err != nil {
			return err
		}
	}

	fmt.Fprintf(o.Out, "%s 綦江区 http://%s\n", DevCounty, ln.Addr())
	if o.Token == "" {
		fmt.Fprintf(o.Out, "admin token (dev_root: every role, development only, %s): %s\n", DevCounty, secret)
	}
	a := api.New(&backend{county: DevCounty, r: r, s: store}, log)
	if plugins != nil {
		a.Plugins = plugins
	}
	a.Dev = true
	a.Console = console.Handler()
	a.Observe, a.OnAuth = m.observe, m.onAuth
	return serveHTTP(ctx, ln, m.handler(a))
}

// dataDir returns dir, or a fresh temporary directory that cleanup removes.
func dataDir(dir, prefix string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, err
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
}

func waitReady(ctx context.Context, r *replica.Replica) error {
	for {
		if r.ReadBarrier() == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
