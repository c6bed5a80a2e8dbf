package replica

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// forwardByte opens a proposal-forwarding connection on the Raft port. Raft's
// own connections start with an RPC type byte (0..4 in raft v1.8), so one
// listener serves both, as Consul multiplexes its server port: forwarding
// needs no extra address to configure and inherits the port's mutual TLS.
const forwardByte = 0xFE

// muxStream is the raft.StreamLayer over the Raft listener (plain TCP or
// mutual TLS). Connections that open with forwardByte go to the forwarding
// server; every other connection is handed to Raft untouched.
type muxStream struct {
	ln      net.Listener
	tls     *tls.Config // nil: plain TCP
	dialTLS func(ctx context.Context, network, addr string) (net.Conn, error)
	raft    chan net.Conn
	forward func(net.Conn) // takes ownership of the connection; must not block
	closed  chan struct{}
	once    sync.Once
	wg      sync.WaitGroup

	mu       sync.Mutex
	accepted map[*peekedConn]struct{} // Raft's inbound connections, closed with the stream
}

var _ raft.StreamLayer = (*muxStream)(nil)

// firstByteTimeout bounds how long an accepted connection may stay silent
// before it says what it is.
const firstByteTimeout = 10 * time.Second

func newMuxStream(bind string, cfg *tls.Config, listenTLS func(net.Listener) net.Listener, dialTLS func(ctx context.Context, network, addr string) (net.Conn, error), forward func(net.Conn)) (*muxStream, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg != nil && listenTLS != nil:
		ln = listenTLS(ln)
	case cfg != nil:
		ln = tls.NewListener(ln, cfg)
	}
	m := &muxStream{ln: ln, tls: cfg, dialTLS: dialTLS, raft: make(chan net.Conn), forward: forward, closed: make(chan struct{})}
	m.wg.Add(1)
	go m.acceptLoop()
	return m, nil
}

func (m *muxStream) acceptLoop() {
	defer m.wg.Done()
	for {
		c, err := m.ln.Accept()
		if err != nil {
			select {
			case <-m.closed:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			time.Sleep(10 * time.Millisecond) // e.g. out of file descriptors
			continue
		}
		m.wg.Add(1)
		go m.route(c)
	}
}

// route reads the first byte (completing a TLS handshake on the way) and
// hands the connection on.
func (m *muxStream) route(c net.Conn) {
	defer m.wg.Done()
	c.SetReadDeadline(time.Now().Add(firstByteTimeout))
	br := bufio.NewReader(c)
	b, err := br.Peek(1)
	if err != nil {
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{})
	pc := &peekedConn{Conn: c, r: br, m: m}
	if b[0] == forwardByte {
		br.Discard(1)
		m.forward(pc)
		return
	}
	m.mu.Lock()
	if m.accepted == nil {
		m.accepted = map[*peekedConn]struct{}{}
	}
	m.accepted[pc] = struct{}{}
	m.mu.Unlock()
	select {
	case m.raft <- pc:
	case <-m.closed:
		pc.Close()
	}
}

// Accept returns the next Raft connection.
func (m *muxStream) Accept() (net.Conn, error) {
	select {
	case c := <-m.raft:
		return c, nil
	case <-m.closed:
		return nil, net.ErrClosed
	}
}

// Close stops accepting, waits for connections still being routed and
// closes Raft's inbound ones: Raft's transport leaves them to the peer, so
// their readers would outlive it. Forwarding connections belong to the
// forwarding server, which closes them.
func (m *muxStream) Close() error {
	var err error
	m.once.Do(func() {
		close(m.closed)
		err = m.ln.Close()
		m.wg.Wait()
		m.mu.Lock()
		open := m.accepted
		m.accepted = nil
		m.mu.Unlock()
		for c := range open {
			c.Conn.Close()
		}
	})
	return err
}

// Addr is the listener's address (the one advertised to peers).
func (m *muxStream) Addr() net.Addr { return m.ln.Addr() }

// Dial connects to a peer for Raft; with TLS the handshake completes before
// Raft writes.
func (m *muxStream) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	if m.tls != nil && m.dialTLS != nil {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return m.dialTLS(ctx, "tcp", string(address))
	}
	if m.tls != nil {
		return tls.DialWithDialer(d, "tcp", string(address), m.tls)
	}
	return d.Dial("tcp", string(address))
}

// peekedConn reads through the buffer that holds the peeked byte.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
	m *muxStream
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// Close also forgets the connection, so the stream does not close it twice.
func (c *peekedConn) Close() error {
	c.m.mu.Lock()
	delete(c.m.accepted, c)
	c.m.mu.Unlock()
	return c.Conn.Close()
}
