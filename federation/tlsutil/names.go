package tlsutil

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
)

// How certificates are named. One CA serves a whole federation, so a
// certificate's chain proves only that its holder belongs to the
// federation; its names say to which part:
//
//   - The common name is the holder's jurisdiction code (500110). The
//     exchange maps a peer to the jurisdiction it may speak for by it.
//   - A replica's certificate also carries the DNS name
//     NODE.JURISDICTION.replica.fengqiao (n1.500110.replica.fengqiao). The
//     Raft port of a group accepts only peers whose certificate names a
//     member of that group, so a node of another jurisdiction, holding a
//     perfectly valid certificate, can neither join nor propose.
//   - The other names are the hosts the holder is reached at.
//
// `fengqiao tls cert --jurisdiction CODE --node ID` makes such a certificate.

// replicaSuffix ends every replica name.
const replicaSuffix = ".replica.fengqiao"

// ReplicaName is the DNS name a replica's certificate carries.
func ReplicaName(node, jurisdiction string) string {
	return node + "." + jurisdiction + replicaSuffix
}

// ErrNotGroupPeer marks a peer whose certificate, though it chains to a CA
// of the bundle, names no member of this replica's group.
var ErrNotGroupPeer = errors.New("tlsutil: the peer's certificate names no replica of this group")

// ReplicaOf returns the node id the certificate names as a replica of
// jurisdiction, if it names one.
func ReplicaOf(cert *x509.Certificate, jurisdiction string) (string, bool) {
	suffix := "." + jurisdiction + replicaSuffix
	for _, n := range cert.DNSNames {
		if id, ok := strings.CutSuffix(n, suffix); ok && id != "" && !strings.Contains(id, ".") {
			return id, true
		}
	}
	return "", false
}

// GroupCheck vets a peer on the Raft port after its chain has verified:
// member reports whether a node id belongs to the group now. refused, if
// set, hears of every peer turned away (for the log and a metric).
func GroupCheck(jurisdiction string, member func(id string) bool, refused func(remote net.Addr, names string)) func(net.Addr, *x509.Certificate) error {
	return func(remote net.Addr, cert *x509.Certificate) error {
		if id, ok := ReplicaOf(cert, jurisdiction); ok && member(id) {
			return nil
		}
		if refused != nil {
			refused(remote, describe(cert))
		}
		return fmt.Errorf("%w (%s)", ErrNotGroupPeer, describe(cert))
	}
}

// describe names a certificate for a log line: its common name and DNS
// names, bounded so an oversize certificate cannot flood the log.
func describe(cert *x509.Certificate) string {
	s := "CN=" + cert.Subject.CommonName
	if len(cert.DNSNames) > 0 {
		s += " DNS=" + strings.Join(cert.DNSNames, ",")
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// GroupListener is Listener with mutual TLS, accepting only peers that
// check approves (see GroupCheck).
func (c *Certs) GroupListener(ln net.Listener, check func(net.Addr, *x509.Certificate) error) net.Listener {
	return &listener{Listener: ln, certs: c, cfg: c.Mutual(), check: check}
}

// GroupDialer is Dialer with mutual TLS, connecting only to servers that
// check approves, so a replica never speaks Raft to an impostor either.
func (c *Certs) GroupDialer(check func(net.Addr, *x509.Certificate) error) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return c.dialer(true, check)
}

// vetted chains a peer check after the tracked connection's own.
func vetted(t *tracked, check func(net.Addr, *x509.Certificate) error) func(tls.ConnectionState) error {
	if check == nil {
		return t.verified
	}
	return func(cs tls.ConnectionState) error {
		if err := t.verified(cs); err != nil {
			return err
		}
		if len(cs.PeerCertificates) == 0 {
			return ErrNotGroupPeer
		}
		return check(t.RemoteAddr(), cs.PeerCertificates[0])
	}
}
