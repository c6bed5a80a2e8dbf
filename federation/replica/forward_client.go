package replica

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// errConnLost means the forwarding connection broke with the call in flight.
var errConnLost = errors.New("replica: forwarding connection lost")

// forwardClient is a follower's connection to the leader's forwarding
// server; calls are multiplexed on it by id.
type forwardClient struct {
	addr raft.ServerAddress
	conn net.Conn
	w    *frameWriter
	done chan struct{} // closed when the reader stops

	mu      sync.Mutex
	next    uint64
	pending map[uint64]chan response
	err     error // why the connection ended; set before done closes
}

func dialForward(stream *muxStream, addr raft.ServerAddress) (*forwardClient, error) {
	if stream == nil {
		return nil, errAlone
	}
	c, err := stream.Dial(addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte{forwardByte, forwardVersion}); err != nil {
		c.Close()
		return nil, err
	}
	c.SetWriteDeadline(time.Time{})
	fc := &forwardClient{addr: addr, conn: c, w: newFrameWriter(c), done: make(chan struct{}), pending: map[uint64]chan response{}}
	go fc.read()
	return fc, nil
}

func (fc *forwardClient) read() {
	br := bufio.NewReaderSize(fc.conn, 64<<10)
	var err error
	for {
		var body []byte
		if body, err = readFrame(br); err != nil {
			break
		}
		id, resp, derr := decodeResponse(body)
		if derr != nil {
			err = derr
			break
		}
		fc.mu.Lock()
		ch := fc.pending[id]
		delete(fc.pending, id)
		fc.mu.Unlock()
		if ch != nil {
			ch <- resp
		}
	}
	fc.conn.Close()
	fc.mu.Lock()
	fc.err = fmt.Errorf("%w: %v", errConnLost, err)
	for id, ch := range fc.pending {
		close(ch)
		delete(fc.pending, id)
	}
	fc.mu.Unlock()
	close(fc.done)
	fc.w.close()
}

func (fc *forwardClient) broken() bool {
	select {
	case <-fc.done:
		return true
	default:
		return false
	}
}

// call sends a request built by body(id) and waits for its answer.
func (fc *forwardClient) call(ctx context.Context, body func(id uint64) []byte) (response, error) {
	ch := make(chan response, 1)
	fc.mu.Lock()
	if fc.err != nil {
		fc.mu.Unlock()
		return response{}, fc.err
	}
	fc.next++
	id := fc.next
	fc.pending[id] = ch
	fc.mu.Unlock()
	// Not under mu: the reader needs it to hand out answers, and a full
	// queue must not stop answers from being read.
	if !fc.w.send(body(id)) {
		fc.mu.Lock()
		delete(fc.pending, id)
		err := fc.err
		fc.mu.Unlock()
		if err == nil {
			err = errConnLost
		}
		return response{}, err
	}
	select {
	case resp, ok := <-ch:
		if !ok {
			fc.mu.Lock()
			defer fc.mu.Unlock()
			return response{}, fc.err
		}
		return resp, nil
	case <-ctx.Done():
		fc.mu.Lock()
		delete(fc.pending, id)
		fc.mu.Unlock()
		return response{}, ctx.Err()
	}
}

func (fc *forwardClient) close() {
	fc.conn.Close()
	<-fc.done
}

// forwarder holds a follower's connection to the current leader.
type forwarder struct {
	stream *muxStream
	mu     sync.Mutex
	cli    *forwardClient
	closed bool
}

// client returns a live connection to addr, dialling it if needed.
func (f *forwarder) client(addr raft.ServerAddress) (*forwardClient, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, errConnLost
	}
	if f.cli != nil && f.cli.addr == addr && !f.cli.broken() {
		return f.cli, nil
	}
	if f.cli != nil {
		f.cli.close() // calls in flight on the old leader fail with errConnLost
	}
	cli, err := dialForward(f.stream, addr)
	if err != nil {
		f.cli = nil
		return nil, err
	}
	f.cli = cli
	return cli, nil
}

func (f *forwarder) close() {
	f.mu.Lock()
	f.closed = true
	cli := f.cli
	f.cli = nil
	f.mu.Unlock()
	if cli != nil {
		cli.close()
	}
}

func proposeRequest(data [][]byte) func(id uint64) []byte {
	return func(id uint64) []byte {
		n := 16
		for _, d := range data {
			n += len(d) + 5
		}
		b := append(make([]byte, 0, n), kindPropose)
		b = binary.AppendUvarint(b, id)
		b = binary.AppendUvarint(b, uint64(len(data)))
		for _, d := range data {
			b = appendBytes(b, d)
		}
		return b
	}
}

func indexRequest(id uint64) []byte {
	return binary.AppendUvarint([]byte{kindIndex}, id)
}
