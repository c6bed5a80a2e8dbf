package tlsutil

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// reloadEvery bounds how often the certificate files are read again; a
// variable so tests need not wait.
var reloadEvery = 10 * time.Second

// Certs is a node's certificate, read again from its files when they
// change, so a renewed certificate (same CA) takes effect on the next
// handshake without a restart. The CA is read once: a new CA needs one.
type Certs struct {
	f      Files
	pool   *x509.CertPool // the CA, read once
	report func(notAfter time.Time, err error)

	mu       sync.Mutex
	checked  time.Time
	certPEM  []byte
	keyPEM   []byte
	badPEM   []byte // the last contents that failed, reported once
	current  *tls.Certificate
	notAfter time.Time
}

// Reloading loads f and returns its certificates. report, if set, hears of
// every reload: the new certificate's expiry, or why the changed files were
// refused (the current certificate then stays in use).
func Reloading(f Files, report func(notAfter time.Time, err error)) (*Certs, error) {
	if err := f.Validate("tls"); err != nil {
		return nil, err
	}
	p, err := pool(f.CA)
	if err != nil {
		return nil, err
	}
	c := &Certs{f: f, pool: p, report: report}
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

// Mutual is the mutual-TLS config over these certificates (see Mutual).
func (c *Certs) Mutual() *tls.Config {
	return &tls.Config{
		GetCertificate:       func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.get(), nil },
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return c.get(), nil },
		RootCAs:              c.pool, ClientCAs: c.pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13,
	}
}

// Client is a config that trusts the CA, for calls to other replicas' APIs.
func (c *Certs) Client() *tls.Config { return clientConfig(c.pool) }

// Server is the API's config over these certificates (see Server).
func (c *Certs) Server() *tls.Config {
	cfg := c.Mutual()
	cfg.ClientAuth, cfg.MinVersion = tls.NoClientCert, tls.VersionTLS12
	return cfg
}

func (c *Certs) get() *tls.Certificate {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.checked) >= reloadEvery {
		c.checked = time.Now()
		if err := c.load(); err != nil && c.report != nil {
			c.report(c.notAfter, err)
		}
	}
	return c.current
}

// load reads the files and takes them if they changed and form a valid
// pair. A pair caught half renewed (new certificate, old key) fails and is
// tried again at the next check.
func (c *Certs) load() error {
	certPEM, err1 := os.ReadFile(c.f.Cert)
	keyPEM, err2 := os.ReadFile(c.f.Key)
	if err := errors.Join(err1, err2); err != nil {
		return c.refuse([]byte(err.Error()), err)
	}
	if bytes.Equal(certPEM, c.certPEM) && bytes.Equal(keyPEM, c.keyPEM) {
		return nil
	}
	both := append(append([]byte{}, certPEM...), keyPEM...)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return c.refuse(both, err)
	}
	if pair.Leaf == nil { // only with GODEBUG x509keypairleaf=0
		return c.refuse(both, errors.New("certificate not parsed"))
	}
	first := c.current == nil
	c.certPEM, c.keyPEM, c.badPEM, c.current, c.notAfter = certPEM, keyPEM, nil, &pair, pair.Leaf.NotAfter
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
	return fmt.Errorf("%s, %s: %w", c.f.Cert, c.f.Key, err)
}
