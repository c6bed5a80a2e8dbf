package tlsutil

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// replicaFiles makes a replica certificate of jurisdiction for node under ca.
func replicaFiles(t *testing.T, ca, jurisdiction, node string) Files {
	t.Helper()
	dir := filepath.Join(t.TempDir(), jurisdiction)
	if err := NewReplicaCert(ca, dir, jurisdiction, node, []string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	return Files{CA: filepath.Join(ca, "ca.pem"), Cert: filepath.Join(dir, node+".pem"), Key: filepath.Join(dir, node+"-key.pem")}
}

// One CA signs the whole federation. A group's Raft listener takes its
// members and turns away, as they handshake, a member of another
// jurisdiction and a node of its own jurisdiction outside the group; a
// member's dialer refuses a server that is no member either.
func TestGroupListenerAcceptsOnlyTheGroup(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca")
	if err := NewCA(ca, "federation"); err != nil {
		t.Fatal(err)
	}
	members := []string{"n0", "n1"}
	member := func(id string) bool { return slices.Contains(members, id) }
	var mu sync.Mutex
	var refused []string
	check := GroupCheck("500110", member, func(_ net.Addr, names string) {
		mu.Lock()
		refused = append(refused, names)
		mu.Unlock()
	})
	server, err := Reloading(replicaFiles(t, ca, "500110", "n0"), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := server.GroupListener(raw, check)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 1)
				if _, err := c.Read(buf); err == nil {
					c.Write(buf)
				}
			}()
		}
	}()
	dial := func(f Files, serverCheck func(net.Addr, *x509.Certificate) error) error {
		c, err := Reloading(f, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := c.GroupDialer(serverCheck)(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write([]byte{7}); err != nil {
			return err
		}
		buf := make([]byte, 1)
		_, err = conn.Read(buf) // the server's verdict arrives with TLS 1.3's first read
		return err
	}
	trustAll := func(net.Addr, *x509.Certificate) error { return nil }
	if err := dial(replicaFiles(t, ca, "500110", "n1"), check); err != nil {
		t.Fatalf("a member: %v", err)
	}
	for _, f := range []Files{replicaFiles(t, ca, "500153", "n1"), replicaFiles(t, ca, "500110", "n9")} {
		if err := dial(f, trustAll); err == nil {
			t.Fatalf("%s connected", f.Cert)
		}
	}
	mu.Lock()
	if len(refused) != 2 {
		t.Fatalf("refused %d peers, want 2: %v", len(refused), refused)
	}
	mu.Unlock()
	// A member dialing a server of another group refuses it.
	other := GroupCheck("500153", member, nil)
	if err := dial(replicaFiles(t, ca, "500110", "n1"), other); !errors.Is(err, ErrNotGroupPeer) {
		t.Fatalf("a member connected to a server of another group: %v", err)
	}
	for _, bad := range []struct{ jur, node string }{{"500110", "N0"}, {"500110", "a.b"}, {"50x110", "n0"}, {"500110", ""}} {
		if err := NewReplicaCert(ca, t.TempDir(), bad.jur, bad.node, []string{"127.0.0.1"}); err == nil {
			t.Errorf("replica cert %q of %q made", bad.node, bad.jur)
		}
	}
}

// A certificate stuffed with names, or with names that only look like a
// replica's, is refused, and what the log says of it stays short.
func TestGroupCheckRefusesLookalikesAndBoundsTheLog(t *testing.T) {
	var said string
	check := GroupCheck("500110", func(id string) bool { return id == "n0" }, func(_ net.Addr, names string) { said = names })
	many := make([]string, 5000)
	for i := range many {
		many[i] = fmt.Sprintf("x%d.example.org", i)
	}
	for _, names := range [][]string{
		many,
		{"n0.500110.replica.fengqiao.evil.org"}, // a suffix after the name
		{"a.n0.500110.replica.fengqiao"},        // a deeper name
		{".500110.replica.fengqiao"},            // no node
		{"n0.5001100.replica.fengqiao"},         // another code that starts alike
		{strings.Repeat("n", 5000) + ".500110.replica.fengqiao"}, // an oversize node id
	} {
		cert := &x509.Certificate{Subject: pkix.Name{CommonName: strings.Repeat("c", 3000)}, DNSNames: names}
		if err := check(&net.TCPAddr{}, cert); !errors.Is(err, ErrNotGroupPeer) {
			t.Errorf("%.40q: %v", names[0], err)
		}
		if len(said) > 210 || len(check(&net.TCPAddr{}, cert).Error()) > 300 {
			t.Errorf("an oversize certificate's names reach the log whole (%d bytes)", len(said))
		}
	}
	if err := check(&net.TCPAddr{}, &x509.Certificate{DNSNames: []string{"n0.500110.replica.fengqiao"}}); err != nil {
		t.Fatalf("the member: %v", err)
	}
}
