package tlsutil

import (
	"context"
	"crypto/tls"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// serve accepts TLS connections on cfg until the test ends, recording the
// serial of each client certificate it sees.
func serve(t *testing.T, cfg *tls.Config) (addr string, clients func() []*big.Int) {
	var mu sync.Mutex
	var seen []*big.Int
	record := func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) > 0 {
			mu.Lock()
			seen = append(seen, cs.PeerCertificates[0].SerialNumber)
			mu.Unlock()
		}
		return nil
	}
	cfg = cfg.Clone()
	if per := cfg.GetConfigForClient; per != nil { // the server's side is built per handshake
		cfg.GetConfigForClient = func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
			c, err := per(hi)
			if c != nil {
				c = c.Clone()
				c.VerifyConnection = record
			}
			return c, err
		}
	} else {
		cfg.VerifyConnection = record
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	return ln.Addr().String(), func() []*big.Int { mu.Lock(); defer mu.Unlock(); return append([]*big.Int{}, seen...) }
}

// serverSerial dials addr and returns the serial of the server's certificate.
func serverSerial(t *testing.T, addr string, cfg *tls.Config) *big.Int {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber
}

// renew writes a fresh certificate and key for name from the CA over f's
// files (only the certificate when keyToo is false).
func renew(t *testing.T, ca string, f Files, name string, keyToo bool) {
	t.Helper()
	dir := t.TempDir()
	if err := NewCert(ca, dir, name, []string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	copyFile := func(from, to string) {
		raw, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(filepath.Join(dir, name+".pem"), f.Cert)
	if keyToo {
		copyFile(filepath.Join(dir, name+"-key.pem"), f.Key)
	}
}

// A renewed certificate is served from the next handshake on, as server and
// as client; a half-renewed or garbled pair is refused, reported once, and
// the current certificate stays in use.
func TestCertificatesReloadWhenTheirFilesChange(t *testing.T) {
	defer func(d time.Duration) { reloadEvery = d }(reloadEvery)
	reloadEvery = 0
	ca := t.TempDir()
	if err := NewCA(ca, "ca"); err != nil {
		t.Fatal(err)
	}
	type event struct {
		notAfter time.Time
		err      error
	}
	var mu sync.Mutex
	var events []event
	report := func(na time.Time, err error) { mu.Lock(); events = append(events, event{na, err}); mu.Unlock() }
	reported := func() []event { mu.Lock(); defer mu.Unlock(); return append([]event{}, events...) }

	sf := files(t, ca, "server")
	sc, err := Reloading(sf, report)
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := serve(t, sc.Server())
	client, _ := Client(sf.CA)
	first := serverSerial(t, addr, client)
	if len(reported()) != 0 {
		t.Fatalf("reports before any change: %v", reported())
	}

	renew(t, ca, sf, "server", true)
	second := serverSerial(t, addr, client)
	if second.Cmp(first) == 0 {
		t.Fatal("the renewed certificate was not served")
	}
	if ev := reported(); len(ev) != 1 || ev[0].err != nil || !ev[0].notAfter.Equal(sc.NotAfter()) {
		t.Fatalf("reports after a renewal: %v", ev)
	}

	renew(t, ca, sf, "server", false) // a new certificate beside the old key
	for range 3 {
		if got := serverSerial(t, addr, client); got.Cmp(second) != 0 {
			t.Fatal("a certificate without its key replaced the current one")
		}
	}
	if ev := reported(); len(ev) != 2 || ev[1].err == nil {
		t.Fatalf("a half-renewed pair should be reported once: %v", ev)
	}
	os.WriteFile(sf.Key, []byte("garbage"), 0o600)
	if got := serverSerial(t, addr, client); got.Cmp(second) != 0 {
		t.Fatal("a garbled key replaced the current certificate")
	}
	renew(t, ca, sf, "server", true)
	if got := serverSerial(t, addr, client); got.Cmp(second) == 0 {
		t.Fatal("a good pair after a bad one was not taken")
	}

	// Mutual TLS: the client side presents its renewed certificate too.
	cf := files(t, ca, "client")
	cc, err := Reloading(cf, nil)
	if err != nil {
		t.Fatal(err)
	}
	maddr, clients := serve(t, sc.Mutual())
	ccfg := cc.Mutual()
	ccfg.ServerName = "127.0.0.1"
	serverSerial(t, maddr, ccfg)
	renew(t, ca, cf, "client", true)
	serverSerial(t, maddr, ccfg)
	// In TLS 1.3 the client is done before the server has checked its
	// certificate: wait for the server's side.
	for deadline := time.Now().Add(5 * time.Second); len(clients()) < 2 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if seen := clients(); len(seen) != 2 || seen[0].Cmp(seen[1]) == 0 {
		t.Fatalf("client certificates seen by the server: %v", seen)
	}
}

// A CA is rotated with the nodes running: a bundle of both CAs, then
// certificates from the new one, then the new CA alone. Each step takes
// effect at the next handshake, on both sides of mutual TLS and for API
// clients. A bundle that would not trust the node's own certificate, or
// that is not a CA file at all, is refused and the bundle in use stays.
func TestCARotationWithoutRestart(t *testing.T) {
	defer func(d time.Duration) { reloadEvery = d }(reloadEvery)
	reloadEvery = 0
	oldCA, newCA := t.TempDir(), t.TempDir()
	for _, dir := range []string{oldCA, newCA} {
		if err := NewCA(dir, filepath.Base(dir)); err != nil {
			t.Fatal(err)
		}
	}
	pemOf := func(dir string) []byte {
		raw, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	// Each node keeps its own copy of the bundle, as in production.
	node := func(name string) (Files, *Certs, *[]error) {
		f := files(t, oldCA, name)
		f.CA = filepath.Join(filepath.Dir(f.Cert), "bundle.pem")
		if err := os.WriteFile(f.CA, pemOf(oldCA), 0o600); err != nil {
			t.Fatal(err)
		}
		var refused []error
		c, err := Reloading(f, func(_ time.Time, err error) {
			if err != nil {
				refused = append(refused, err)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return f, c, &refused
	}
	af, a, aRefused := node("a")
	bf, b, _ := node("b")
	bundle := func(f Files, cas ...string) {
		var all []byte
		for _, ca := range cas {
			all = append(all, pemOf(ca)...)
		}
		if err := os.WriteFile(f.CA, all, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The configs are made once, as a node makes them; clients dial through
	// Dialer.
	aMutual, aServer, bMutual, bClient := a.Mutual(), a.Server(), b.Dialer(true), b.Dialer(false)
	ok := func(step string) {
		t.Helper()
		if err := handshakeDial(t, aMutual, bMutual); err != nil {
			t.Fatalf("%s: mutual TLS: %v", step, err)
		}
		if err := handshakeDial(t, aServer, bClient); err != nil {
			t.Fatalf("%s: API client: %v", step, err)
		}
	}
	ok("before")
	// A bundle of the new CA alone would not trust a's own certificate.
	bundle(af, newCA)
	ok("a bundle that does not trust a's certificate")
	os.WriteFile(af.CA, []byte("garbage"), 0o600)
	ok("a garbled bundle")
	if len(*aRefused) != 2 {
		t.Fatalf("refusals reported: %v", *aRefused)
	}

	for _, f := range []Files{af, bf} {
		bundle(f, oldCA, newCA)
	}
	ok("both CAs")
	renew(t, newCA, af, "a", true)
	ok("a renewed from the new CA")
	renew(t, newCA, bf, "b", true)
	ok("b renewed from the new CA")
	for _, f := range []Files{af, bf} {
		bundle(f, newCA)
	}
	ok("the new CA alone")

	// A peer still on the old CA is refused now, both ways.
	_, stale, _ := node("stale")
	if err := handshakeDial(t, aMutual, stale.Dialer(true)); err == nil {
		t.Fatal("a certificate from the retired CA was accepted")
	}
	if err := handshakeDial(t, stale.Server(), a.Dialer(false)); err == nil {
		t.Fatal("an API client trusted a server certificate from the retired CA")
	}
	// The dialer checks the name it dials: b's certificate names 127.0.0.1
	// and localhost, not 127.0.0.2.
	ln, err := tls.Listen("tcp", "127.0.0.2:0", b.Server()) // all of 127/8 is loopback on Linux
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	if c, err := a.Dialer(false)(context.Background(), "tcp", ln.Addr().String()); err == nil || !strings.Contains(err.Error(), "127.0.0.2") {
		if c != nil {
			c.Close()
		}
		t.Fatalf("a certificate for another address was accepted: %v", err)
	}
}

// handshakeDial completes one handshake between a server config and a
// client's dialer.
func handshakeDial(t *testing.T, server *tls.Config, dial func(context.Context, string, string) (net.Conn, error)) error {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			err = c.(*tls.Conn).Handshake()
			c.Close()
		}
		done <- err
	}()
	c, err := dial(context.Background(), "tcp", ln.Addr().String())
	if err == nil {
		err = c.(*tls.Conn).Handshake()
		c.Close()
	}
	if serr := <-done; err == nil {
		err = serr
	}
	return err
}
