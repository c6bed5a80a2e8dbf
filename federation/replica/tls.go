package replica

import (
	"crypto/tls"
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// tlsStream is a raft.StreamLayer over mutual TLS: a replica accepts only
// peers presenting a certificate from the group's CA, and presents its own.
type tlsStream struct {
	ln  net.Listener
	cfg *tls.Config
}

var _ raft.StreamLayer = (*tlsStream)(nil)

func newTLSStream(bind string, cfg *tls.Config) (*tlsStream, error) {
	ln, err := tls.Listen("tcp", bind, cfg)
	if err != nil {
		return nil, err
	}
	return &tlsStream{ln: ln, cfg: cfg}, nil
}

func (s *tlsStream) Accept() (net.Conn, error) { return s.ln.Accept() }
func (s *tlsStream) Close() error              { return s.ln.Close() }
func (s *tlsStream) Addr() net.Addr            { return s.ln.Addr() }

// Dial connects to a peer and completes the handshake before Raft writes.
func (s *tlsStream) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	conn, err := tls.DialWithDialer(d, "tcp", string(address), s.cfg)
	if err != nil {
		return nil, err
	}
	return conn, nil
}
