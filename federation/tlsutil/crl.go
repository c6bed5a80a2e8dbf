package tlsutil

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Revocation. A certificate that must stop working before it expires (a
// replica's key leaked, a machine retired) is listed in a certificate
// revocation list, as etcd's --peer-crl-file does. Files.CRL names a PEM
// file of CRLs, each signed by a CA of the bundle; it is read again with the
// other files, handshakes with a listed certificate fail, and open
// connections with one are closed.

// ErrRevoked is the error for a peer whose certificate a CRL lists.
var ErrRevoked = errors.New("tlsutil: certificate revoked")

// revocations are the listed certificates, by issuer and serial.
type revocations map[string]struct{}

func revocationKey(rawIssuer []byte, serial *big.Int) string {
	return string(rawIssuer) + "\x00" + serial.Text(16)
}

// check returns ErrRevoked, naming the certificate, if the CRLs list any
// certificate of chain.
func (r revocations) check(chain []*x509.Certificate) error {
	for _, c := range chain {
		if _, ok := r[revocationKey(c.RawIssuer, c.SerialNumber)]; ok {
			return fmt.Errorf("%w: %q, serial %s", ErrRevoked, c.Subject.CommonName, c.SerialNumber.Text(16))
		}
	}
	return nil
}

// parseCRLs reads the PEM CRLs in raw. Each must be signed by one of cas; a
// list nobody in the bundle signed could revoke anything, so it is refused.
func parseCRLs(raw []byte, cas []*x509.Certificate) (revocations, error) {
	r := revocations{}
	n := 0
	for rest := raw; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "X509 CRL" {
			continue
		}
		n++
		crl, err := x509.ParseRevocationList(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("CRL %d: %w", n, err)
		}
		if signer(crl, cas) == nil {
			return nil, fmt.Errorf("CRL %d (issuer %q) is not signed by a CA of the bundle", n, crl.Issuer.CommonName)
		}
		for _, e := range crl.RevokedCertificateEntries {
			r[revocationKey(crl.RawIssuer, e.SerialNumber)] = struct{}{}
		}
	}
	if n == 0 {
		return nil, errors.New("holds no X509 CRL block")
	}
	return r, nil
}

// signer is the CA among cas that signed crl, or nil.
func signer(crl *x509.RevocationList, cas []*x509.Certificate) *x509.Certificate {
	for _, ca := range cas {
		if bytes.Equal(ca.RawSubject, crl.RawIssuer) && crl.CheckSignatureFrom(ca) == nil {
			return ca
		}
	}
	return nil
}

// parseBundle returns the certificates of a PEM bundle.
func parseBundle(raw []byte) []*x509.Certificate {
	var out []*x509.Certificate
	for rest := raw; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return out
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if c, err := x509.ParseCertificate(b.Bytes); err == nil {
			out = append(out, c)
		}
	}
}

// crlValidity is how long a CRL written by Revoke is current. Nodes use a
// list past its NextUpdate as they would a current one, as etcd does.
const crlValidity = 10 * 365 * 24 * time.Hour

// Revoke lists the certificates in certPaths in the CRL at crlPath, signed
// by the CA in caDir, keeping what the list already held (a missing file
// starts an empty list, so Revoke with no certificates writes one). Each
// certificate must come from that CA. It returns how many certificates the
// list now holds. The file is replaced whole, so a node never reads half.
func Revoke(caDir, crlPath string, certPaths ...string) (int, error) {
	ca, key, err := loadCA(caDir)
	if err != nil {
		return 0, fmt.Errorf("tlsutil: CA in %s: %w", caDir, err)
	}
	tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(crlValidity)}
	seen := map[string]bool{}
	raw, err := os.ReadFile(crlPath)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return 0, fmt.Errorf("tlsutil: %w", err)
	default:
		b, rest := pem.Decode(raw)
		if b == nil || b.Type != "X509 CRL" {
			return 0, errs.Invalid("crl", "format", "%s is not a PEM CRL", crlPath)
		}
		// Rewriting would drop the other lists (another CA's, say).
		if len(bytes.TrimSpace(rest)) > 0 {
			return 0, errs.Invalid("crl", "format", "%s holds more than one PEM block; tls revoke keeps one CA's list per file", crlPath)
		}
		old, err := x509.ParseRevocationList(b.Bytes)
		if err != nil {
			return 0, errs.Invalid("crl", "format", "%s: %v", crlPath, err)
		}
		if signer(old, []*x509.Certificate{ca}) == nil {
			return 0, errs.Invalid("crl", "issuer", "%s was not signed by the CA in %s", crlPath, caDir)
		}
		tmpl.Number = new(big.Int).Add(old.Number, big.NewInt(1))
		for _, e := range old.RevokedCertificateEntries {
			seen[e.SerialNumber.Text(16)] = true
			tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, e)
		}
	}
	for _, p := range certPaths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return 0, fmt.Errorf("tlsutil: %w", err)
		}
		certs := parseBundle(raw)
		if len(certs) == 0 {
			return 0, errs.Invalid("cert", "format", "%s holds no certificate", p)
		}
		c := certs[0]
		if c.CheckSignatureFrom(ca) != nil {
			return 0, errs.Invalid("cert", "issuer", "%s (%q) was not issued by the CA in %s", p, c.Subject.CommonName, caDir)
		}
		if s := c.SerialNumber.Text(16); !seen[s] {
			seen[s] = true
			tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: time.Now()})
		}
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca, key)
	if err != nil {
		return 0, fmt.Errorf("tlsutil: sign CRL: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(crlPath), ".crl-*")
	if err != nil {
		return 0, fmt.Errorf("tlsutil: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := pem.Encode(tmp, &pem.Block{Type: "X509 CRL", Bytes: der}); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("tlsutil: %w", err)
	}
	if err := errors.Join(tmp.Chmod(0o644), tmp.Sync(), tmp.Close()); err != nil {
		return 0, fmt.Errorf("tlsutil: %w", err)
	}
	if err := os.Rename(tmp.Name(), crlPath); err != nil {
		return 0, fmt.Errorf("tlsutil: %w", err)
	}
	return len(tmpl.RevokedCertificateEntries), nil
}
