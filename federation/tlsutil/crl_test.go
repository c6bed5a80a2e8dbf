package tlsutil

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/fengqiao/fengqiao/core/errs"
)

// A revoked certificate stops working at once: its open connections are
// closed, as server and as client, and new handshakes with it fail both
// ways, while every other peer carries on. A CRL that cannot be trusted is
// refused, reported once, and the list in use stays.
func TestRevokedCertificateIsCutOff(t *testing.T) {
	ca, rogue := t.TempDir(), t.TempDir()
	for _, dir := range []string{ca, rogue} {
		if err := NewCA(dir, filepath.Base(dir)); err != nil {
			t.Fatal(err)
		}
	}
	crl := filepath.Join(t.TempDir(), "crl.pem")
	if n, err := Revoke(ca, crl); err != nil || n != 0 {
		t.Fatalf("an empty list: %d, %v", n, err)
	}
	withCRL := func(name string) *rotationNode { return newRotationNode(t, ca, name, crl, ca) }
	a, bad, good := withCRL("a"), withCRL("bad"), withCRL("good")
	addr := a.echo(t)
	fromBad, fromGood := bad.dial(t, addr), good.dial(t, addr)
	toBad := a.dial(t, bad.echo(t)) // a as the client of the revoked node
	for _, c := range []net.Conn{fromBad, fromGood, toBad} {
		if !alive(c) {
			t.Fatal("no round trip before revoking")
		}
	}

	if n, err := Revoke(ca, crl, bad.f.Cert); err != nil || n != 1 {
		t.Fatalf("revoke: %d, %v", n, err)
	}
	a.look()
	if alive(fromBad) || alive(toBad) {
		t.Fatal("a kept a connection with the revoked certificate")
	}
	if !alive(fromGood) {
		t.Fatal("a closed a connection with a certificate still valid")
	}
	a.mu.Lock()
	drops := append([]error(nil), a.dropErrs...)
	a.mu.Unlock()
	if len(drops) != 2 || !errors.Is(drops[0], ErrRevoked) || !errors.Is(drops[1], ErrRevoked) {
		t.Fatalf("closings reported: %v, want two ErrRevoked", drops)
	}
	// New handshakes fail both ways, whichever side has read the list.
	if c, err := bad.certs.Dialer(true)(context.Background(), "tcp", addr); err == nil {
		if alive(c) {
			t.Fatal("the revoked node connected to a")
		}
		c.Close()
	}
	if _, err := a.certs.Dialer(true)(context.Background(), "tcp", bad.echo(t)); !errors.Is(err, ErrRevoked) {
		t.Fatalf("a dialled the revoked node: %v", err)
	}
	if c := good.dial(t, addr); !alive(c) {
		t.Fatal("a refused a valid client after the revocation")
	}

	// Lists a node cannot trust are refused and change nothing: garbage, one
	// signed by a CA outside the bundle, and one whose signature is broken.
	held, _ := os.ReadFile(crl)
	otherCRL := filepath.Join(t.TempDir(), "crl.pem")
	if _, err := Revoke(rogue, otherCRL); err != nil {
		t.Fatal(err)
	}
	foreign, _ := os.ReadFile(otherCRL)
	for i, contents := range [][]byte{[]byte("garbage"), foreign} {
		os.WriteFile(crl, contents, 0o644)
		a.look()
		a.look() // the same bad file is reported once
		a.mu.Lock()
		got := len(a.refused)
		a.mu.Unlock()
		if got != i+1 {
			t.Fatalf("bad list %d: %d refusals reported, want %d: %v", i, got, i+1, a.refused)
		}
		if !alive(fromGood) {
			t.Fatalf("bad list %d closed a valid connection", i)
		}
		if _, err := a.certs.Dialer(true)(context.Background(), "tcp", bad.echo(t)); !errors.Is(err, ErrRevoked) {
			t.Fatalf("bad list %d replaced the list in use: %v", i, err)
		}
	}
	os.WriteFile(crl, held, 0o644)

	// Revoke refuses what it cannot vouch for, and leaves the list as it was.
	stranger := files(t, rogue, "stranger")
	both := filepath.Join(t.TempDir(), "both.pem") // two CAs' lists in one file
	bothPEM := append(append([]byte{}, held...), foreign...)
	os.WriteFile(both, bothPEM, 0o644)
	for _, try := range []struct {
		ca, list string
		certs    []string
		field    string
	}{
		{ca, crl, []string{stranger.Cert}, "cert"}, // another CA's certificate
		{rogue, crl, nil, "crl"},                   // another CA's list
		{ca, crl, []string{stranger.Key}, "cert"},  // not a certificate
		{ca, both, []string{bad.f.Cert}, "crl"},    // rewriting would drop the other list
	} {
		if _, err := Revoke(try.ca, try.list, try.certs...); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != try.field {
			t.Fatalf("Revoke(%s, %v): %v, want invalid %s", try.list, try.certs, err, try.field)
		}
	}
	if now, _ := os.ReadFile(crl); !bytes.Equal(now, held) {
		t.Fatal("a refused Revoke changed the list")
	}
	if now, _ := os.ReadFile(both); !bytes.Equal(now, bothPEM) {
		t.Fatal("a refused Revoke changed a file of two lists")
	}
	// Revoking again adds nothing twice.
	if n, err := Revoke(ca, crl, bad.f.Cert, good.f.Cert, bad.f.Cert); err != nil || n != 2 {
		t.Fatalf("revoke again: %d, %v", n, err)
	}
}
