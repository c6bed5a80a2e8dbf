package tlsutil

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"sync"
	"time"
)

// Live connections. crypto/tls checks a peer once, at the handshake, so a
// connection opened under a CA that is later retired, or with a certificate
// later revoked, would stay trusted for as long as it stays open, and Raft
// and HTTP keep theirs open for hours. Certs therefore remembers the peer
// chain of every connection made through Dialer or accepted through
// Listener, and when the CA bundle or the CRLs change it checks each chain
// again and closes the connections that no longer pass. Their owners
// redial, and the new handshake decides.

// tracked is one live connection: the raw TCP connection under the TLS one,
// so closing it needs no lock of crypto/tls's, and the peer's chain once
// the handshake has verified it.
type tracked struct {
	net.Conn
	certs *Certs
	usage x509.ExtKeyUsage // what the peer's certificate was checked for

	mu    sync.Mutex
	chain []*x509.Certificate // nil until verified, or when the peer sent none
	once  sync.Once
}

// verified is the handshake's VerifyConnection hook: it runs after
// crypto/tls has checked the chain, and keeps it. The chain is checked
// again against the bundle in use now, which a handshake that began under
// the previous bundle did not see and recheck may have missed.
func (t *tracked) verified(cs tls.ConnectionState) error {
	t.mu.Lock()
	t.chain = cs.PeerCertificates
	t.mu.Unlock()
	pool, rev := t.certs.trust()
	return t.trusted(pool, rev, time.Now())
}

// Close forgets the connection and closes it.
func (t *tracked) Close() error {
	t.once.Do(func() { t.certs.forget(t) })
	return t.Conn.Close()
}

// trusted reports whether the peer's chain still verifies under pool and
// none of it is revoked. A connection whose handshake has not finished is
// left to that handshake.
func (t *tracked) trusted(pool *x509.CertPool, rev revocations, now time.Time) error {
	t.mu.Lock()
	chain := t.chain
	t.mu.Unlock()
	if len(chain) == 0 {
		return nil
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{t.usage}, CurrentTime: now}); err != nil {
		return err
	}
	return rev.check(chain)
}

// trust is the CA bundle and revocations in use, without reading the
// files.
func (c *Certs) trust() (*x509.CertPool, revocations) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pool, c.revoked
}

func (c *Certs) track(raw net.Conn, usage x509.ExtKeyUsage) *tracked {
	t := &tracked{Conn: raw, certs: c, usage: usage}
	c.connMu.Lock()
	if c.conns == nil {
		c.conns = map[*tracked]struct{}{}
	}
	c.conns[t] = struct{}{}
	c.connMu.Unlock()
	return t
}

func (c *Certs) forget(t *tracked) {
	c.connMu.Lock()
	delete(c.conns, t)
	c.connMu.Unlock()
}

// Live is how many connections made through Dialer or accepted through
// Listener are open.
func (c *Certs) Live() int {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	return len(c.conns)
}

// OnUntrusted sets fn to hear of each connection closed because a new CA
// bundle no longer trusts its peer or a new CRL lists it (errors.Is(err,
// ErrRevoked)).
func (c *Certs) OnUntrusted(fn func(remote net.Addr, err error)) {
	c.connMu.Lock()
	c.untrusted = fn
	c.connMu.Unlock()
}

// recheck closes the live connections whose peers pool does not trust or
// rev lists. It runs outside c.mu: a handshake in progress may be waiting
// for it.
func (c *Certs) recheck(pool *x509.CertPool, rev revocations) {
	c.connMu.Lock()
	conns := make([]*tracked, 0, len(c.conns))
	for t := range c.conns {
		conns = append(conns, t)
	}
	fn := c.untrusted
	c.connMu.Unlock()
	now := time.Now()
	for _, t := range conns {
		if err := t.trusted(pool, rev, now); err != nil {
			t.Close()
			if fn != nil {
				fn(t.RemoteAddr(), err)
			}
		}
	}
}

// Dialer dials TLS with the CA bundle (and, when mutual, the certificate)
// in use at each dial, checking the server's name as crypto/tls does. protos
// are offered by ALPN (h2 for HTTP/2). A client config cannot follow a new
// bundle by itself: crypto/tls reads RootCAs once per config, and a
// handshake to an IP address carries no name a verification hook could use.
// The connection is a *tls.Conn (net/http needs one for ALPN), and it is
// closed if a later bundle stops trusting the server.
func (c *Certs) Dialer(mutual bool, protos ...string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return c.dialer(mutual, nil, protos...)
}

func (c *Certs) dialer(mutual bool, check func(net.Addr, *x509.Certificate) error, protos ...string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		cfg := c.Client()
		if mutual {
			cfg = c.Mutual()
		}
		cfg.ServerName, cfg.NextProtos = host, protos
		raw, err := new(net.Dialer).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		t := c.track(raw, x509.ExtKeyUsageServerAuth)
		cfg.VerifyConnection = vetted(t, check)
		tc := tls.Client(t, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			t.Close()
			return nil, fmt.Errorf("tlsutil: %s: %w", addr, err)
		}
		return tc, nil
	}
}

// Listener serves TLS on ln with the node's certificate, demanding a client
// certificate from the CA bundle when mutual (see Mutual; otherwise see
// Server). Accepted connections are *tls.Conn, and under mutual TLS they
// are closed if a later bundle stops trusting the client.
func (c *Certs) Listener(ln net.Listener, mutual bool) net.Listener {
	cfg := c.Server()
	if mutual {
		cfg = c.Mutual()
	}
	return &listener{Listener: ln, certs: c, cfg: cfg}
}

type listener struct {
	net.Listener
	certs *Certs
	cfg   *tls.Config
	check func(net.Addr, *x509.Certificate) error // GroupListener's, else nil
}

func (l *listener) Accept() (net.Conn, error) {
	raw, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	t := l.certs.track(raw, x509.ExtKeyUsageClientAuth)
	cfg := l.cfg.Clone()
	// The hook goes on the config each handshake is made with.
	if per := cfg.GetConfigForClient; per != nil {
		cfg.GetConfigForClient = func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
			pc, err := per(hi)
			if pc != nil {
				pc = pc.Clone()
				pc.VerifyConnection = vetted(t, l.check)
			}
			return pc, err
		}
	} else {
		cfg.VerifyConnection = vetted(t, l.check)
	}
	return tls.Server(t, cfg), nil
}
