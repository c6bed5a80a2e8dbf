package tlsutil

import (
	"crypto/tls"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// serve accepts TLS connections on cfg until the test ends, recording the
// serial of each client certificate it sees.
func serve(t *testing.T, cfg *tls.Config) (addr string, clients func() []*big.Int) {
	var mu sync.Mutex
	var seen []*big.Int
	cfg = cfg.Clone()
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) > 0 {
			mu.Lock()
			seen = append(seen, cs.PeerCertificates[0].SerialNumber)
			mu.Unlock()
		}
		return nil
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
