package tlsutil

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// rotationNode is a node with its own bundle file, as in production.
type rotationNode struct {
	f        Files
	certs    *Certs
	mu       sync.Mutex
	drops    []net.Addr // connections closed as untrusted
	dropErrs []error    // why
	refused  []error    // reloads refused
}

// newRotationNode starts a node whose bundle holds the CAs in bundle, with
// a CRL file when crl is set, recording refused reloads and the
// connections it closes.
func newRotationNode(t *testing.T, ca, name, crl string, bundle ...string) *rotationNode {
	t.Helper()
	n := &rotationNode{f: files(t, ca, name)}
	n.f.CA, n.f.CRL = filepath.Join(filepath.Dir(n.f.Cert), "bundle.pem"), crl
	n.bundle(t, bundle...)
	c, err := ReloadingEvery(n.f, time.Hour, func(_ time.Time, err error) { // the test says when to look
		if err != nil {
			n.mu.Lock()
			n.refused = append(n.refused, err)
			n.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	c.OnUntrusted(func(remote net.Addr, err error) {
		n.mu.Lock()
		n.drops, n.dropErrs = append(n.drops, remote), append(n.dropErrs, err)
		n.mu.Unlock()
	})
	n.certs = c
	return n
}

// bundle writes the node's CA bundle from the CAs in dirs.
func (n *rotationNode) bundle(t *testing.T, dirs ...string) {
	t.Helper()
	var all []byte
	for _, d := range dirs {
		raw, err := os.ReadFile(filepath.Join(d, "ca.pem"))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, raw...)
	}
	if err := os.WriteFile(n.f.CA, all, 0o600); err != nil {
		t.Fatal(err)
	}
}

// look makes the node read its files now, as its next check would.
func (n *rotationNode) look() {
	n.certs.mu.Lock()
	n.certs.checked = time.Time{}
	n.certs.mu.Unlock()
	n.certs.state()
}

func (n *rotationNode) dropped() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.drops)
}

// echo serves mutual TLS through n's Listener, echoing what it reads.
func (n *rotationNode) echo(t *testing.T) string {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := n.certs.Listener(raw, true)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return raw.Addr().String()
}

// dial opens a long-lived connection from n to addr.
func (n *rotationNode) dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := n.certs.Dialer(true)(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// alive reports whether a round trip over c still works.
func alive(c net.Conn) bool {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte("ping")); err != nil {
		return false
	}
	buf := make([]byte, 4)
	_, err := io.ReadFull(c, buf)
	return err == nil && bytes.Equal(buf, []byte("ping"))
}

// A connection opened under a CA that is then retired does not outlive
// the retirement: the side whose bundle drops the peer's CA closes it, as
// server and as client, while connections the new bundle trusts stay open.
func TestRetiredCAClosesLiveConnections(t *testing.T) {
	oldCA, newCA := t.TempDir(), t.TempDir()
	for _, dir := range []string{oldCA, newCA} {
		if err := NewCA(dir, filepath.Base(dir)); err != nil {
			t.Fatal(err)
		}
	}
	a := newRotationNode(t, oldCA, "a", "", oldCA)
	b := newRotationNode(t, oldCA, "b", "", oldCA)
	addr := a.echo(t)
	before := b.dial(t, addr) // both certificates from the old CA
	if !alive(before) {
		t.Fatal("no round trip before the rotation")
	}
	if a.certs.Live() != 1 || b.certs.Live() != 1 {
		t.Fatalf("live connections: a %d, b %d, want 1 and 1", a.certs.Live(), b.certs.Live())
	}

	// Step 1 and 2: both CAs trusted, then certificates from the new one.
	for _, n := range []*rotationNode{a, b} {
		n.bundle(t, oldCA, newCA)
		n.look()
	}
	for _, n := range []*rotationNode{a, b} {
		renew(t, newCA, n.f, "node", true)
		n.look()
	}
	if !alive(before) {
		t.Fatal("a connection both bundles still trust was closed")
	}
	after := b.dial(t, addr) // both certificates from the new CA
	if !alive(after) {
		t.Fatal("no round trip under the new certificates")
	}

	// Step 3: n trusts the new CA alone; gone was made under the old one.
	retire := func(n *rotationNode, name string, gone net.Conn) {
		t.Helper()
		n.bundle(t, newCA)
		n.look()
		if alive(gone) {
			t.Fatalf("%s kept a connection whose peer is from the retired CA", name)
		}
		if !alive(after) {
			t.Fatalf("%s closed a connection the new CA trusts", name)
		}
	}
	// On the server: the client of `before` presented an old-CA
	// certificate, so a closes it; `after` stays.
	retire(a, "a", before)
	if a.dropped() != 1 {
		t.Fatalf("a reported %d untrusted connections, want 1", a.dropped())
	}
	before.Close() // as its owner does on the read error

	// On a client: b is still connected to a server whose certificate
	// comes from the old CA; b's new bundle closes it.
	stale := newRotationNode(t, oldCA, "stale", "", oldCA, newCA)
	toStale := b.dial(t, stale.echo(t))
	if !alive(toStale) {
		t.Fatal("no round trip to the stale server")
	}
	retire(b, "b", toStale)
	if b.dropped() != 1 || stale.dropped() != 0 {
		t.Fatalf("untrusted connections reported: b %d, stale %d; want 1 and 0", b.dropped(), stale.dropped())
	}
	// Closed connections are forgotten: a holds `after` alone; b holds
	// `after` and, until its owner closes it, nothing else.
	if a.certs.Live() != 1 || b.certs.Live() != 1 {
		t.Fatalf("live connections: a %d, b %d, want 1 and 1", a.certs.Live(), b.certs.Live())
	}
}

// Watch applies a new bundle to live connections with no handshake to
// prompt it, and stops with its context.
func TestWatchEnforcesWithoutHandshakes(t *testing.T) {
	oldCA, newCA := t.TempDir(), t.TempDir()
	for _, dir := range []string{oldCA, newCA} {
		if err := NewCA(dir, filepath.Base(dir)); err != nil {
			t.Fatal(err)
		}
	}
	a := newRotationNode(t, oldCA, "a", "", oldCA)
	b := newRotationNode(t, oldCA, "b", "", oldCA, newCA)
	c := b.dial(t, a.echo(t))
	if !alive(c) {
		t.Fatal("no round trip")
	}
	a.certs.every = 0 // Watch's floor applies
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.certs.Watch(ctx); close(done) }()
	renew(t, newCA, a.f, "a", true)
	a.bundle(t, newCA)
	deadline := time.Now().Add(5 * time.Second)
	for a.dropped() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if a.dropped() != 1 || alive(c) {
		t.Fatalf("Watch did not close the untrusted connection (dropped %d)", a.dropped())
	}
}
