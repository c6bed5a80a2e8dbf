// Package tlsutil makes a development CA and node certificates, and builds
// the TLS configurations a node uses: server TLS for the API, and mutual TLS
// between replicas (each side must present a certificate from the group's CA).
package tlsutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Files names a node's TLS material.
type Files struct {
	CA   string `json:"ca_file"`
	Cert string `json:"cert_file"`
	Key  string `json:"key_file"`
	// CRL, optional, names a PEM file of certificate revocation lists
	// signed by CAs of the bundle (see Revoke).
	CRL string `json:"crl_file,omitempty"`
}

// Enabled reports whether any TLS file is set.
func (f Files) Enabled() bool { return f.CA != "" || f.Cert != "" || f.Key != "" || f.CRL != "" }

// Validate checks that the CA, certificate and key files are named (the CRL
// is optional).
func (f Files) Validate(field string) error {
	switch {
	case f.CA == "":
		return errs.Invalid(field+".ca_file", "required", "ca_file is required with TLS")
	case f.Cert == "":
		return errs.Invalid(field+".cert_file", "required", "cert_file is required with TLS")
	case f.Key == "":
		return errs.Invalid(field+".key_file", "required", "key_file is required with TLS")
	}
	return nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		panic(err)
	}
	return n
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if err := pem.Encode(f, &pem.Block{Type: typ, Bytes: der}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// NewCA writes ca.pem and ca-key.pem (ECDSA P-256, ten years) into dir.
func NewCA(dir, name string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: name, Organization: []string{"Fengqiao dev CA"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, "ca.pem"), "CERTIFICATE", der, 0o644); err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, "ca-key.pem"), "EC PRIVATE KEY", kder, 0o600)
}

// NewCert writes NAME.pem and NAME-key.pem into dir, signed by the CA in
// caDir, with NAME as its common name, valid for hosts (IPs or DNS names),
// usable as server and client.
func NewCert(caDir, dir, name string, hosts []string) error {
	if name == "" || len(hosts) == 0 {
		return errs.Invalid("name", "required", "a certificate needs a name and at least one host")
	}
	return newCert(caDir, dir, name, name, hosts)
}

// NewReplicaCert writes NODE.pem and NODE-key.pem into dir for replica node
// of jurisdiction's group: its common name is the jurisdiction code and it
// carries ReplicaName(node, jurisdiction) besides hosts (see names.go).
func NewReplicaCert(caDir, dir, jurisdiction, node string, hosts []string) error {
	switch {
	case !ValidNodeID(node):
		return errs.Invalid("node", "format", "a node id is 1..63 lower-case letters, digits and hyphens, not %q", node)
	case jurisdiction == "" || strings.Trim(jurisdiction, "0123456789") != "" || len(jurisdiction) > 12:
		return errs.Invalid("jurisdiction", "format", "%q is not a division code", jurisdiction)
	case len(hosts) == 0:
		return errs.Invalid("hosts", "required", "a certificate needs at least one host")
	}
	return newCert(caDir, dir, node, jurisdiction, append([]string{ReplicaName(node, jurisdiction)}, hosts...))
}

// ValidNodeID reports whether a node id can be named in a certificate: a
// DNS label.
func ValidNodeID(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
}

func newCert(caDir, dir, file, cn string, hosts []string) error {
	caCert, caKey, err := loadCA(caDir)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(2, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, file+".pem"), "CERTIFICATE", der, 0o644); err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, file+"-key.pem"), "EC PRIVATE KEY", kder, 0o600)
}

func loadCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cb, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		return nil, nil, err
	}
	kb, err := os.ReadFile(filepath.Join(dir, "ca-key.pem"))
	if err != nil {
		return nil, nil, err
	}
	cp, _ := pem.Decode(cb)
	kp, _ := pem.Decode(kb)
	if cp == nil || kp == nil {
		return nil, nil, errors.New("tlsutil: CA files are not PEM")
	}
	cert, err := x509.ParseCertificate(cp.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, err := x509.ParseECPrivateKey(kp.Bytes)
	return cert, key, err
}

func pool(caFile string) (*x509.CertPool, error) {
	raw, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("tlsutil: %w", err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(raw) {
		return nil, fmt.Errorf("tlsutil: %s holds no certificate", caFile)
	}
	return p, nil
}

// Mutual returns a TLS config that presents this node's certificate
// (reloaded when its files change, see Certs) and demands, as server and as
// client, a peer certificate from the CA.
func Mutual(f Files) (*tls.Config, error) {
	c, err := Reloading(f, nil)
	if err != nil {
		return nil, err
	}
	return c.Mutual(), nil
}

// Server returns the API's TLS config: this node's certificate; clients
// authenticate with bearer tokens, not certificates.
func Server(f Files) (*tls.Config, error) {
	c, err := Reloading(f, nil)
	if err != nil {
		return nil, err
	}
	return c.Server(), nil
}

// Client returns a config that trusts the CA (CLI calls, forwarding).
func Client(caFile string) (*tls.Config, error) {
	p, err := pool(caFile)
	if err != nil {
		return nil, err
	}
	return clientConfig(p), nil
}

func clientConfig(ca *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: ca, MinVersion: tls.VersionTLS12}
}
