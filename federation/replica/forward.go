package replica

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/fengqiao/fengqiao/core/state"
)

// Forwarding lets a follower serve writes: it sends the encoded commands to
// the leader over one multiplexed connection on the Raft port, learns their
// log indexes, and takes the results from its own FSM once it has applied
// them. Only commands travel, never HTTP requests, and many callers share
// each write and flush.
//
// Frames are a 4-byte big-endian length and a body. A request body is a kind
// byte, a uvarint id, and for a proposal a uvarint count of uvarint-length
// commands. A response body is the uvarint id, a status byte, then the
// positions (uvarint count, then each command's entry index and place in
// the entry, as uvarints) or a uvarint-length message. An index request is
// answered with one position, the commit index. A checkpoint request carries
// a uvarint log index and is answered with statusCheckpoint, the uvarint
// audit sequence and the uvarint-length head (divergence.go). A head request
// has the same body and answer, but any replica answers it with its own
// head: the leader asks every voter (quorum.go).
//
// The connection opens with forwardByte and then forwardVersion; a leader
// closes a connection whose version it does not speak, so replicas of
// different builds fail loudly instead of misreading each other.
const (
	forwardVersion = 3

	kindPropose    = 1 // commands → their positions in the log, once applied on the leader
	kindIndex      = 2 // → the leader's commit index, for a follower to catch up to
	kindCheckpoint = 3 // a checkpoint index → the leader's audit head there
	kindHead       = 4 // a checkpoint index → this replica's audit head there

	statusOK         = 0
	statusNotLeader  = 1 // nothing was proposed; message: the leader's address
	statusUnknown    = 2 // proposed, outcome unknown; message: why
	statusNotReady   = 3 // a new leader still applying its predecessor's entries
	statusCheckpoint = 4 // the checkpoint asked for
	statusRefused    = 5 // nothing was proposed: a replayed or stale command (replay.go); message: why

	maxFrame    = 64 << 20
	maxCommands = 1 << 16
)

var errBadFrame = errors.New("replica: malformed forwarding frame")

func readFrame(r *bufio.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > maxFrame {
		return nil, fmt.Errorf("%w: %d bytes", errBadFrame, n)
	}
	buf := make([]byte, n)
	_, err := io.ReadFull(r, buf)
	return buf, err
}

// frameWriter sends frames from many goroutines through one writer
// goroutine, which flushes only when nothing else is queued: concurrent
// callers share syscalls.
type frameWriter struct {
	ch     chan []byte
	done   chan struct{}
	err    error        // set before done closes
	mu     sync.RWMutex // senders hold it shared, close exclusively
	closed bool
}

func newFrameWriter(w io.Writer) *frameWriter {
	fw := &frameWriter{ch: make(chan []byte, 1024), done: make(chan struct{})}
	go fw.loop(bufio.NewWriterSize(w, 64<<10))
	return fw
}

func (fw *frameWriter) loop(bw *bufio.Writer) {
	defer close(fw.done)
	for body := range fw.ch {
		if !fw.write(bw, body) {
			break
		}
	drain:
		for {
			select {
			case body, ok := <-fw.ch:
				if !ok || !fw.write(bw, body) {
					break drain
				}
			default:
				break drain
			}
		}
		if fw.err == nil {
			if fw.err = bw.Flush(); fw.err != nil {
				break
			}
		}
		if fw.err != nil {
			break
		}
	}
	for range fw.ch { // unblock senders until close
	}
}

func (fw *frameWriter) write(bw *bufio.Writer, body []byte) bool {
	if fw.err != nil {
		return false
	}
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(body)))
	if _, fw.err = bw.Write(hdr[:]); fw.err == nil {
		_, fw.err = bw.Write(body)
	}
	return fw.err == nil
}

// send queues a frame, and reports false once the writer is closed. It may
// wait for room, but a broken connection drains the queue, so it never
// waits for ever.
func (fw *frameWriter) send(body []byte) bool {
	fw.mu.RLock()
	defer fw.mu.RUnlock()
	if fw.closed {
		return false
	}
	fw.ch <- body
	return true
}

func (fw *frameWriter) close() {
	fw.mu.Lock()
	if !fw.closed {
		fw.closed = true
		close(fw.ch)
	}
	fw.mu.Unlock()
	<-fw.done
}

// frame reads a frame body.
type frame struct {
	b   []byte
	bad bool
}

func (f *frame) uvarint() uint64 {
	v, n := binary.Uvarint(f.b)
	if n <= 0 {
		f.bad = true
		return 0
	}
	f.b = f.b[n:]
	return v
}

func (f *frame) byte() byte {
	if len(f.b) == 0 {
		f.bad = true
		return 0
	}
	b := f.b[0]
	f.b = f.b[1:]
	return b
}

func (f *frame) bytes() []byte {
	n := f.uvarint()
	if f.bad || n > uint64(len(f.b)) {
		f.bad = true
		return nil
	}
	b := f.b[:n:n]
	f.b = f.b[n:]
	return b
}

func appendBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

// response is a decoded answer from the leader.
type response struct {
	status     byte
	positions  []position
	checkpoint state.Checkpoint // Seq and Head, for statusCheckpoint
	msg        string
}

func decodeResponse(body []byte) (uint64, response, error) {
	f := frame{b: body}
	id := f.uvarint()
	r := response{status: f.byte()}
	switch r.status {
	case statusCheckpoint:
		r.checkpoint.Seq = f.uvarint()
		if r.checkpoint.Head = f.bytes(); len(r.checkpoint.Head) != 32 {
			f.bad = true
		}
	case statusOK:
		n := f.uvarint()
		if n > maxCommands {
			f.bad = true
		}
		for i := uint64(0); i < n && !f.bad; i++ {
			index, sub := f.uvarint(), f.uvarint()
			if sub >= maxCommands {
				f.bad = true
			}
			r.positions = append(r.positions, position{index: index, sub: int(sub)})
		}
	default:
		r.msg = string(f.bytes())
	}
	if f.bad || len(f.b) != 0 {
		return 0, r, errBadFrame
	}
	return id, r, nil
}

// forwardServer answers followers on the leader.
type forwardServer struct {
	r      *Replica
	guard  replayGuard
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// accept takes a forwarding connection from the mux.
func (s *forwardServer) accept(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return
	}
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	go s.serve(c)
}

func (s *forwardServer) close() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *forwardServer) serve(c net.Conn) {
	defer s.wg.Done()
	fw := newFrameWriter(c)
	var calls sync.WaitGroup
	br := bufio.NewReaderSize(c, 64<<10)
	if v, err := br.ReadByte(); err != nil || v != forwardVersion {
		if err == nil {
			s.r.log.Warn("closing a forwarding connection from another build", "peer", c.RemoteAddr().String(), "version", v, "want", forwardVersion)
		}
		br = nil
	}
	for br != nil {
		body, err := readFrame(br)
		if err != nil {
			break
		}
		f := frame{b: body}
		kind, id := f.byte(), f.uvarint()
		switch kind {
		case kindIndex:
			if f.bad || len(f.b) != 0 {
				err = errBadFrame
				break
			}
			fw.send(s.index(id))
		case kindCheckpoint, kindHead:
			index := f.uvarint()
			if f.bad || len(f.b) != 0 {
				err = errBadFrame
				break
			}
			if kind == kindCheckpoint {
				fw.send(s.checkpoint(id, index))
			} else {
				fw.send(s.head(id, index))
			}
		case kindPropose:
			n := f.uvarint()
			if n == 0 || n > maxCommands {
				f.bad = true
			}
			data := make([][]byte, 0, min(n, 1024))
			for i := uint64(0); i < n && !f.bad; i++ {
				data = append(data, f.bytes())
			}
			if f.bad || len(f.b) != 0 {
				err = errBadFrame
				break
			}
			calls.Add(1)
			remote := c.RemoteAddr().String()
			go func() {
				defer calls.Done()
				fw.send(s.propose(id, data, remote))
			}()
		default:
			err = errBadFrame
		}
		if err != nil {
			s.r.log.Warn("closing a forwarding connection", "peer", c.RemoteAddr().String(), "err", err)
			break
		}
	}
	calls.Wait()
	fw.close()
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func reply(id uint64, status byte, msg string, pos []position) []byte {
	b := binary.AppendUvarint(nil, id)
	b = append(b, status)
	if status != statusOK {
		return appendBytes(b, []byte(msg))
	}
	b = binary.AppendUvarint(b, uint64(len(pos)))
	for _, p := range pos {
		b = binary.AppendUvarint(b, p.index)
		b = binary.AppendUvarint(b, uint64(p.sub))
	}
	return b
}

func (s *forwardServer) notLeader(id uint64) []byte {
	addr, _ := s.r.Raft.LeaderWithID()
	return reply(id, statusNotLeader, string(addr), nil)
}

func (s *forwardServer) index(id uint64) []byte {
	switch {
	case !s.r.IsLeader():
		return s.notLeader(id)
	case !s.r.ready.Load():
		return reply(id, statusNotReady, "leader is applying its predecessor's entries", nil)
	}
	return reply(id, statusOK, "", []position{{index: s.r.Raft.CommitIndex()}})
}

// propose applies on the leader, packed with everyone else's proposals,
// and answers with the positions once they are applied here, so they are
// committed.
func (s *forwardServer) propose(id uint64, data [][]byte, remote string) []byte {
	if !s.r.IsLeader() {
		return s.notLeader(id)
	}
	if err := s.guard.admit(data, time.Now()); err != nil {
		s.r.log.Warn("refused a forwarded proposal", "peer", remote, "why", err.Error())
		if s.r.onRefused != nil {
			s.r.onRefused(remote, err.Error())
		}
		return reply(id, statusRefused, err.Error(), nil)
	}
	pos, _, err := s.r.commit(context.Background(), data, forwardTimeout)
	switch {
	case errors.Is(err, ErrUnknownOutcome):
		return reply(id, statusUnknown, err.Error(), nil)
	case err != nil:
		return s.notLeader(id)
	}
	return reply(id, statusOK, "", pos)
}

// forwardTimeout bounds a forwarded proposal on the leader.
const forwardTimeout = 10 * time.Second
