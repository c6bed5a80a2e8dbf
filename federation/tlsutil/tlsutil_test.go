package tlsutil

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"path/filepath"
	"testing"

	"github.com/fengqiao/fengqiao/core/errs"
)

func files(t *testing.T, ca, name string) Files {
	dir := t.TempDir()
	if err := NewCert(ca, dir, name, []string{"127.0.0.1", "localhost"}); err != nil {
		t.Fatal(err)
	}
	return Files{CA: filepath.Join(ca, "ca.pem"), Cert: filepath.Join(dir, name+".pem"), Key: filepath.Join(dir, name+"-key.pem")}
}

func handshake(t *testing.T, server, client *tls.Config) error {
	return handshakeDial(t, server, func(_ context.Context, network, addr string) (net.Conn, error) {
		return tls.Dial(network, addr, client)
	})
}

func TestMutualTLS(t *testing.T) {
	ca, rogue := t.TempDir(), t.TempDir()
	if err := NewCA(ca, "ca"); err != nil {
		t.Fatal(err)
	}
	if err := NewCA(rogue, "rogue"); err != nil {
		t.Fatal(err)
	}
	a, _ := Mutual(files(t, ca, "a"))
	b, _ := Mutual(files(t, ca, "b"))
	x, _ := Mutual(files(t, rogue, "x"))
	if err := handshake(t, a, b); err != nil {
		t.Fatalf("two certificates from one CA: %v", err)
	}
	if err := handshake(t, a, x); err == nil {
		t.Fatal("a certificate from another CA was accepted")
	}
	noCert, _ := Client(filepath.Join(ca, "ca.pem"))
	if err := handshake(t, a, noCert); err == nil {
		t.Fatal("a client without a certificate was accepted by a mutual-TLS server")
	}
	srv, _ := Server(files(t, ca, "api"))
	if err := handshake(t, srv, noCert); err != nil {
		t.Fatalf("the API server should take clients without certificates: %v", err)
	}
	if err := NewCA(ca, "again"); err == nil {
		t.Fatal("NewCA overwrote an existing CA")
	}
	if _, err := Mutual(Files{CA: "x"}); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "tls.cert_file" {
		t.Fatalf("missing cert: %v", err)
	}
	if err := NewCert(ca, t.TempDir(), "n", nil); errs.Field(err) != "name" {
		t.Fatalf("no hosts: %v", err)
	}
}
