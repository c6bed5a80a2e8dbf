package tlsutil

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// reloadEvery bounds how often the certificate files are read again; a
// variable so tests need not wait.
var reloadEvery = 10 * time.Second

// Certs is a node's certificate and CA bundle, read again from their files
// when they change, so a renewed certificate or a new CA bundle takes effect
// on the next handshake without a restart. A CA can then be rotated with
// the node running: first a bundle holding both CAs, then certificates from
// the new one, then a bundle holding the new CA alone.
type Certs struct {
	f      Files
	every  time.Duration // how often the files are read again
	report func(notAfter time.Time, err error)

	mu       sync.Mutex
	checked  time.Time
	caPEM    []byte
	certPEM  []byte
	keyPEM   []byte
	crlPEM   []byte
	revoked  revocations // from crlPEM
	badPEM   []byte      // the last contents that failed, reported once
	pool     *x509.CertPool
	current  *tls.Certificate
	notAfter time.Time

	connMu    sync.Mutex
	conns     map[*tracked]struct{} // live connections (track.go)
	untrusted func(net.Addr, error)
}

// Reloading loads f and returns its certificates. report, if set, hears of
// every reload: the new certificate's expiry, or why the changed files were
// refused (the current certificate and CA then stay in use).
func Reloading(f Files, report func(notAfter time.Time, err error)) (*Certs, error) {
	return ReloadingEvery(f, reloadEvery, report)
}

// ReloadingEvery is Reloading, reading the files again at most every
// `every` instead of every 10 s.
func ReloadingEvery(f Files, every time.Duration, report func(notAfter time.Time, err error)) (*Certs, error) {
	if err := f.Validate("tls"); err != nil {
		return nil, err
	}
	c := &Certs{f: f, every: every, report: report}
	if err := c.load(); err != nil {
		return nil, fmt.Errorf("tlsutil: %w", err)
	}
	c.checked = time.Now()
	return c, nil
}

// NotAfter is when the certificate in use expires.
func (c *Certs) NotAfter() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.notAfter
}

// Mutual is the mutual-TLS config over these certificates (see Mutual). As
// a server it checks clients against the CA bundle in use at each
// handshake; as a client it trusts the bundle in use when it was made, so
// dial with Dialer to follow a new bundle.
func (c *Certs) Mutual() *tls.Config {
	cfg := c.Client()
	cfg.MinVersion = tls.VersionTLS13
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return c.get(), nil }
	cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		cert, pool := c.state()
		return &tls.Config{Certificates: []tls.Certificate{*cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13,
			VerifyConnection: c.notRevoked}, nil
	}
	return cfg
}

// Client is a config that trusts the CA bundle in use now, for calls to
// other replicas' APIs.
func (c *Certs) Client() *tls.Config {
	_, pool := c.state()
	cfg := clientConfig(pool)
	cfg.VerifyConnection = c.notRevoked
	return cfg
}

// notRevoked refuses a peer whose certificate the CRLs in use list.
func (c *Certs) notRevoked(cs tls.ConnectionState) error {
	_, rev := c.trust()
	return rev.check(cs.PeerCertificates)
}

// Server is the API's config over these certificates (see Server).
func (c *Certs) Server() *tls.Config {
	return &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.get(), nil },
		MinVersion:     tls.VersionTLS12,
	}
}

func (c *Certs) get() *tls.Certificate {
	cert, _ := c.state()
	return cert
}

// state is the certificate and CA bundle in use, read again from the files
// at most every c.every. A new bundle or CRL is enforced on live
// connections.
func (c *Certs) state() (*tls.Certificate, *x509.CertPool) {
	c.mu.Lock()
	var changed bool
	if time.Since(c.checked) >= c.every {
		c.checked = time.Now()
		ca, crl := c.caPEM, c.crlPEM
		if err := c.load(); err != nil && c.report != nil {
			c.report(c.notAfter, err)
		}
		changed = !bytes.Equal(ca, c.caPEM) || !bytes.Equal(crl, c.crlPEM)
	}
	cert, pool, rev := c.current, c.pool, c.revoked
	c.mu.Unlock()
	if changed {
		c.recheck(pool, rev)
	}
	return cert, pool
}

// Watch reads the files again every c.every until ctx ends, so a new
// bundle or CRL reaches live connections even when no handshake asks for
// it.
func (c *Certs) Watch(ctx context.Context) {
	t := time.NewTicker(max(c.every, 50*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.state()
		}
	}
}

// load reads the files and takes them if they changed and are sound: a
// certificate and key that form a pair, and a CA bundle that trusts that
// certificate. Files caught half renewed (new certificate, old key; a
// bundle without the CA of the certificate in use) fail and are tried again
// at the next check.
func (c *Certs) load() error {
	caPEM, err0 := os.ReadFile(c.f.CA)
	certPEM, err1 := os.ReadFile(c.f.Cert)
	keyPEM, err2 := os.ReadFile(c.f.Key)
	var crlPEM []byte
	var err3 error
	if c.f.CRL != "" {
		crlPEM, err3 = os.ReadFile(c.f.CRL)
	}
	if err := errors.Join(err0, err1, err2, err3); err != nil {
		return c.refuse([]byte(err.Error()), err)
	}
	if bytes.Equal(caPEM, c.caPEM) && bytes.Equal(certPEM, c.certPEM) && bytes.Equal(keyPEM, c.keyPEM) && bytes.Equal(crlPEM, c.crlPEM) {
		return nil
	}
	all := bytes.Join([][]byte{caPEM, certPEM, keyPEM, crlPEM}, nil)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return c.refuse(all, fmt.Errorf("%s holds no certificate", c.f.CA))
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return c.refuse(all, err)
	}
	if pair.Leaf == nil { // only with GODEBUG x509keypairleaf=0
		return c.refuse(all, errors.New("certificate not parsed"))
	}
	if _, err := pair.Leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return c.refuse(all, fmt.Errorf("the CA bundle does not trust this node's certificate: %w", err))
	}
	var rev revocations
	if c.f.CRL != "" {
		if rev, err = parseCRLs(crlPEM, parseBundle(caPEM)); err != nil {
			return c.refuse(all, fmt.Errorf("crl_file %s: %w", c.f.CRL, err))
		}
	}
	first := c.current == nil
	c.caPEM, c.certPEM, c.keyPEM, c.crlPEM, c.badPEM = caPEM, certPEM, keyPEM, crlPEM, nil
	c.pool, c.revoked, c.current, c.notAfter = pool, rev, &pair, pair.Leaf.NotAfter
	if !first && c.report != nil {
		c.report(c.notAfter, nil)
	}
	return nil
}

// refuse returns err the first time these contents fail (for files that
// could not be read, the error's text stands in), and nil after, so a bad
// file is reported once, not at every check.
func (c *Certs) refuse(contents []byte, err error) error {
	if c.badPEM != nil && bytes.Equal(contents, c.badPEM) {
		return nil
	}
	c.badPEM = contents
	return fmt.Errorf("%s: %w", strings.Join(slices.DeleteFunc([]string{c.f.CA, c.f.Cert, c.f.Key, c.f.CRL}, func(s string) bool { return s == "" }), ", "), err)
}
