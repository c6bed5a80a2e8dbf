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
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fengqiao/fengqiao/core/keyfile"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/divisions"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/seal"
	"github.com/fengqiao/fengqiao/federation/exchange"
	"github.com/fengqiao/fengqiao/federation/membership"
	"github.com/fengqiao/fengqiao/federation/replica"
	"github.com/fengqiao/fengqiao/federation/tlsutil"
	"github.com/fengqiao/fengqiao/node/api"
	"github.com/fengqiao/fengqiao/node/console"
)

// DemoOptions configure `fengqiao demo`.
type DemoOptions struct {
	BasePort int           // first API port (default 8100); exchange ports start at BasePort+100
	Replicas int           // replicas per jurisdiction: 1 (default) or 3
	Data     string        // data directory; "" makes a temporary one, removed on exit
	Token    string        // admin token secret for every node; "" generates one
	Logger   *slog.Logger  // default JSON to stderr at warn
	Out      io.Writer     // default stdout
	Traffic  time.Duration // interval of the live traffic (default 2 s; negative: none)
}

// demoJobScale shortens the leaders' job intervals in the demo, so rollups
// and witnesses show within seconds (a minute becomes 10 s).
const demoJobScale = 1.0 / 6

// demoNode is one jurisdiction of the demo federation.
type demoNode struct {
	code, name, parent string
	peers              []string
	county             string // the county whose data it loads ("" for a city)

	api, xaddr string
	members    []*demoMember
	mu         sync.Mutex
}

type demoMember struct {
	rep   *replica.Replica
	store *core.Store
	api   http.Handler
	rcv   *exchange.Receiver
}

// demoLayout is the Chengdu–Chongqing federation: two cities of each side,
// four counties with two townships each, and two peer links across the
// provincial border (荣昌区–隆昌市 for cases, 武侯区–綦江区 for handovers).
func demoLayout() ([]*demoNode, error) {
	nodes := []*demoNode{
		{code: "500000", name: "重庆市"},
		{code: "500110", name: "綦江区", parent: "500000", peers: []string{"510107"}, county: "500110"},
		{code: "500153", name: "荣昌区", parent: "500000", peers: []string{"511083"}, county: "500153"},
		{code: "510100", name: "成都市"},
		{code: "510107", name: "武侯区", parent: "510100", peers: []string{"500110"}, county: "510107"},
		{code: "511000", name: "内江市"},
		{code: "511083", name: "隆昌市", parent: "511000", peers: []string{"500153"}, county: "511083"},
	}
	for _, county := range []string{"500110", "500153", "510107", "511083"} {
		sub, err := divisions.Subtree(county)
		if err != nil {
			return nil, err
		}
		n := 0
		for _, d := range sub {
			if d.Parent == county && n < 2 {
				nodes = append(nodes, &demoNode{code: d.Code, name: d.Name, parent: county, county: county})
				n++
			}
		}
	}
	return nodes, nil
}

func (n *demoNode) links(all []*demoNode) []model.Link {
	var ls []model.Link
	if n.parent != "" {
		ls = append(ls, model.Link{Peer: n.parent, Relation: model.RelParent})
	}
	for _, c := range all {
		if c.parent == n.code {
			ls = append(ls, model.Link{Peer: c.code, Relation: model.RelChild})
		}
	}
	for _, p := range n.peers {
		// Handovers may carry the full identity; category details stay
		// denied (the default).
		ls = append(ls, model.Link{Peer: p, Relation: model.RelPeer, Share: []string{model.SharePersonIdentity}})
	}
	return ls
}

// leader returns the member that leads now, or nil.
func (n *demoNode) leader() *demoMember {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, m := range n.members {
		if m.rep.IsLeader() {
			return m
		}
	}
	return nil
}

// route sends each request to pick(the replica that leads now).
func (n *demoNode) route(pick func(*demoMember) http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := n.leader()
		if m == nil {
			http.Error(w, "no leader yet", http.StatusServiceUnavailable)
			return
		}
		pick(m).ServeHTTP(w, r)
	})
}

// waitLeader returns the member that leads and has caught up; with three
// replicas any of them may win.
func (n *demoNode) waitLeader(ctx context.Context) (*demoMember, error) {
	for {
		if m := n.leader(); m != nil && m.rep.ReadBarrier() == nil {
			return m, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// printReady ends the demo's start with one block: where to look, the
// token, and what to try.
func printReady(o DemoOptions, nodes []*demoNode) {
	url := func(code string) string {
		for _, n := range nodes {
			if n.code == code {
				return "http://" + n.api
			}
		}
		return ""
	}
	token := o.Token
	if os.Getenv("FENGQIAO_TOKEN") == o.Token {
		token = "the one in FENGQIAO_TOKEN"
	}
	qj, rc, lc := url("500110"), url("500153"), url("511083")
	line := strings.Repeat("─", 72)
	fmt.Fprintf(o.Out, `%s
枫桥 demo ready: %d jurisdictions, each its own Raft group (%d replica(s) each)
  console  %s/          綦江区: grids, residents, events, party
  phone    %s/m/        网格员端 (installable; reports offline and syncs)
  token    %s
           dev_root: every role on every node, development only
  try
    - sign in, open 一张图: 綦江's grids; tick 上报事件 and click a grid to report
    - 工作台 updates live; take an event 受理 → 派遣 → 签收 → 处置反馈 → 核查 → 回访评价
    - 联动 at 荣昌 %s/#/federation: open a case with 511083,
      then see it and its entries at 隆昌 %s/#/federation
    - curl -H "Authorization: Bearer $TOKEN" %s/api/v1/events?limit=5
    - Open311: %s/open311/v2/discovery.json
  Ctrl-C stops the demo.
%s
`, line, len(nodes), o.Replicas, qj, qj, token, rc, lc, qj, qj, line)
}

// RunDemo runs the whole federation in this process until ctx ends.
func RunDemo(ctx context.Context, o DemoOptions) error {
	if o.BasePort == 0 {
		o.BasePort = 8100
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.Replicas != 1 && o.Replicas != 3 {
		return fmt.Errorf("node: --replicas must be 1 or 3, got %d", o.Replicas)
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Traffic == 0 {
		o.Traffic = 2 * time.Second
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	data, cleanup, err := dataDir(o.Data, "fengqiao-demo-")
	if err != nil {
		return err
	}
	defer cleanup()
	o.Data = data
	if o.Token == "" {
		o.Token = "fq_" + core.NewID()
		fmt.Fprintf(o.Out, "admin token (dev_root, every role on every node, development only): %s\n", o.Token)
	}
	nodes, err := demoLayout()
	if err != nil {
		return err
	}
	caDir := filepath.Join(o.Data, "ca")
	if _, err := os.Stat(filepath.Join(caDir, "ca.pem")); err != nil {
		if err := tlsutil.NewCA(caDir, "Fengqiao demo federation CA"); err != nil {
			return err
		}
	}
	for i, n := range nodes {
		n.api = fmt.Sprintf("127.0.0.1:%d", o.BasePort+i)
		n.xaddr = fmt.Sprintf("127.0.0.1:%d", o.BasePort+100+i)
	}
	// Every replica joins one gossip pool; receivers are found through it.
	pool := &demoPool{key: membership.GenerateKey()}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	errc := make(chan error, 2*len(nodes))
	for _, n := range nodes {
		if err := startDemoNode(ctx, &wg, errc, o, n, nodes, caDir, pool, log); err != nil {
			if ctx.Err() != nil {
				return nil // stopped while starting: not a failure
			}
			return fmt.Errorf("node: demo %s %s: %w", n.code, n.name, err)
		}
		fmt.Fprintf(o.Out, "%s %s http://%s\n", n.code, n.name, n.api)
	}
	printReady(o, nodes)
	if o.Traffic > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			demoTraffic(ctx, nodes, o.Traffic, log)
		}()
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}

func startDemoNode(ctx context.Context, wg *sync.WaitGroup, errc chan<- error, o DemoOptions, n *demoNode, all []*demoNode,
	caDir string, pool *demoPool, log *slog.Logger) error {
	dir := filepath.Join(o.Data, n.code)
	if err := tlsutil.NewCert(caDir, dir, n.code, []string{"127.0.0.1", "localhost"}); err != nil {
		return err
	}
	mtls, err := tlsutil.Mutual(tlsutil.Files{CA: filepath.Join(caDir, "ca.pem"), Cert: filepath.Join(dir, n.code+".pem"), Key: filepath.Join(dir, n.code+"-key.pem")})
	if err != nil {
		return err
	}
	keys, err := keyfile.LoadOrCreate(filepath.Join(dir, "keys.json"), seal.AES256GCM)
	if err != nil {
		return err
	}
	nlog := log.With("jurisdiction", n.code)
	d, err := division(n.code)
	if err != nil {
		return err
	}
	var servers []raft.Server
	ids := make([]string, o.Replicas)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-r%d", n.code, i)
	}
	check := tlsutil.GroupCheck(n.code, func(id string) bool { return slices.Contains(ids, id) }, func(remote net.Addr, names string) {
		nlog.Warn("refused a peer on the Raft port", "remote", remote.String(), "certificate", names)
	})
	for i, id := range ids {
		rc := replica.Config{ID: id, Dir: filepath.Join(dir, id), Logger: nlog, Timeout: 500 * time.Millisecond, AuditKeys: keys}
		if o.Replicas == 1 {
			rc.Alone = true // no Raft port at all
		} else {
			// Replicas of one group speak Raft over mutual TLS, each naming
			// itself in its certificate.
			if err := tlsutil.NewReplicaCert(caDir, dir, n.code, id, []string{"127.0.0.1"}); err != nil {
				return err
			}
			certs, err := tlsutil.Reloading(tlsutil.Files{CA: filepath.Join(caDir, "ca.pem"), Cert: filepath.Join(dir, id+".pem"), Key: filepath.Join(dir, id+"-key.pem")}, nil)
			if err != nil {
				return err
			}
			rc.Bind, rc.TLS, rc.DialTLS = "127.0.0.1:0", certs.Mutual(), certs.GroupDialer(check)
			rc.ListenTLS = func(ln net.Listener) net.Listener { return certs.GroupListener(ln, check) }
		}
		r, err := replica.Open(rc)
		if err != nil {
			return err
		}
		s := core.New(r.Engine, r.Proposer(), core.Options{Keyring: keys, Logger: nlog})
		var inner sync.WaitGroup
		fed, err := joinFederation(ctx, &inner, r, s, fedSetup{
			Member: membership.Config{Name: fmt.Sprintf("%s/r%d", n.code, i), Bind: "127.0.0.1:0", Keys: []string{pool.key}, Profile: "local",
				Meta: membership.Meta{Jurisdiction: n.code, Tier: d.Tier, API: n.api, Exchange: n.xaddr, Version: Version}},
			Join: pool.seeds(), TLS: mtls, Logger: nlog,
		})
		if err != nil {
			r.Close()
			return err
		}
		pool.add(fed.pool.Addr())
		m := &demoMember{rep: r, store: s, rcv: fed.rcv}
		a := api.New(&backend{county: n.code, r: r, s: s, pool: fed.pool, ship: fed.ship}, nlog)
		a.Dev = true // the demo's token is the development root
		a.Console = console.Handler()
		m.api = a
		n.members = append(n.members, m)
		servers = append(servers, raft.Server{ID: raft.ServerID(id), Address: r.Addr})
		inner.Add(1)
		go func() {
			defer inner.Done()
			r.RunLeaderLoops(ctx, s, core.JobOptions{Scale: demoJobScale})
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			inner.Wait()
			r.Close()
		}()
	}
	if err := n.members[0].rep.Raft.BootstrapCluster(raft.Configuration{Servers: servers}).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
		return err
	}
	m, err := n.waitLeader(ctx)
	if err != nil {
		return err
	}
	s := m.store
	sctx := core.WithActor(ctx, "demo-seed")
	if _, err := s.KeyAuditChain(sctx); err != nil {
		return err
	}
	if err := s.Federation.Configure(sctx, model.FederationConfig{Self: n.code, Links: n.links(all)}); err != nil {
		return err
	}
	if _, err := s.Jurisdictions.Get(n.code); err != nil {
		if err := seedDemo(sctx, s, n); err != nil {
			return err
		}
		if err := markRolesSplit(sctx, s); err != nil {
			return err
		}
	}

	if _, _, err := s.Tokens.Create(sctx, "demo root", access.DevRoot, n.code, o.Token); err != nil && !errors.Is(err, errs.ErrConflict) {
		return err
	}
	for _, x := range []struct {
		addr string
		h    http.Handler
		tls  bool
	}{
		{n.api, n.route(func(m *demoMember) http.Handler { return m.api }), false},
		{n.xaddr, n.route(func(m *demoMember) http.Handler { return m.rcv }), true},
	} {
		ln, err := net.Listen("tcp", x.addr)
		if err != nil {
			return err
		}
		if x.tls {
			ln = tls.NewListener(ln, mtls)
		}
		wg.Add(1)
		go func(ln net.Listener, h http.Handler) {
			defer wg.Done()
			if err := serveHTTP(ctx, ln, h); err != nil && ctx.Err() == nil {
				errc <- err
			}
		}(ln, x.h)
	}
	return nil
}

// demoPool is the demo's gossip pool: one key, and the first few members
// as seeds for the rest.
type demoPool struct {
	key   string
	mu    sync.Mutex
	addrs []string
}

func (p *demoPool) add(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.addrs) < 3 {
		p.addrs = append(p.addrs, addr)
	}
}

func (p *demoPool) seeds() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.addrs...)
}

// seedDemo loads a node's jurisdiction data: a county gets the dev sample,
// a township its county's divisions and grids, a city its divisions.
func seedDemo(ctx context.Context, s *core.Store, n *demoNode) error {
	if n.county == n.code {
		_, err := seedSample(ctx, s, n.code)
		return err
	}
	return loadJurisdiction(ctx, s, n.code, 1)
}
