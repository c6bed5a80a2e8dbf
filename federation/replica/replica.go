// Package replica runs one member of a jurisdiction's Raft group: the core
// engine as the FSM, the Raft log on bbolt (federation/raftstore), TCP
// transport and file snapshots, and a core.Proposer that applies through Raft.
package replica

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core/seal"
	"github.com/fengqiao/fengqiao/core/state"
	"github.com/fengqiao/fengqiao/federation/internal/logline"
	"github.com/fengqiao/fengqiao/federation/raftstore"
)

// Config describes one replica.
type Config struct {
	ID   string // unique within the group
	Dir  string // data directory: state.db, raft.db, snapshots/
	Bind string // Raft TCP address, e.g. 127.0.0.1:7001 (":0" picks a port); "" with Alone
	// Alone runs a group of one replica that opens no Raft or forwarding
	// listener at all (an in-memory transport): nothing outside the process
	// can propose to it, and it can never take another member.
	Alone     bool
	Bootstrap []raft.Server // when set and the log is empty, form a new group with these voters
	Logger    *slog.Logger

	SnapshotThreshold uint64 // entries between snapshots (default 8192)
	TrailingLogs      uint64 // entries kept after a snapshot (default 10240)
	NoSync            bool   // skip fsync (tests only)
	// SyncState fsyncs the state file on every commit as well as the Raft
	// log. By default only the log is fsync'd: the state file is rebuilt
	// from the latest snapshot and the log after a machine crash.
	SyncState bool
	Timeout   time.Duration // heartbeat/election scale (default: raft's)
	// OnApply is passed to the engine (metrics).
	OnApply func(entries, rejected int, took time.Duration)
	// AuditKeys is the key file whose index keys key the audit chain
	// (core.Engine.SetAuditKeys), given before the log replays.
	AuditKeys *seal.Keyring
	// OnRefused, if set, hears of each forwarded proposal the leader
	// refused as a replay (replay.go): the peer and why (audit hook).
	OnRefused func(peer, why string)
	// TLS, when set, is mutual TLS for Raft traffic (tlsutil.Mutual).
	TLS *tls.Config
	// DialTLS, when set with TLS, dials peers instead of TLS's client side,
	// so each dial can use the CA bundle in use then (tlsutil.Certs.Dialer).
	DialTLS func(ctx context.Context, network, addr string) (net.Conn, error)
	// ListenTLS, when set with TLS, serves TLS on the Raft listener instead
	// of TLS's server side, so live connections can be closed when the CA
	// bundle stops trusting their peers (tlsutil.Certs.Listener).
	ListenTLS func(net.Listener) net.Listener
	// OnCommit, if set, is told how long each proposal took from Raft.Apply
	// to its results (replication, commit and apply; metrics hook).
	OnCommit func(entries int, took time.Duration)
	// CheckInterval is how often a follower compares its latest checkpoint
	// with the leader's (divergence.go), and the leader its own with the
	// voters' (quorum.go). Zero means DefaultCheckInterval; negative turns
	// the checks off.
	CheckInterval time.Duration
}

// LogCacheSize is how many recent Raft entries are kept in memory for
// replication (as Consul does); older ones are read from raft.db.
const LogCacheSize = 2048

// Replica is one running group member.
type Replica struct {
	ID        string
	Raft      *raft.Raft
	Engine    *state.Engine
	Addr      raft.ServerAddress
	logs      *raftstore.Store
	transport *raft.NetworkTransport
	inmem     *raft.InmemTransport // a group of one (Config.Alone): no listener
	stream    *muxStream
	fsm       *FSM
	co        *coalescer    // packs concurrent proposals into few entries
	fwd       forwarder     // a follower's connection to the leader
	fsrv      forwardServer // the leader's side
	log       *slog.Logger
	onCommit  func(entries int, took time.Duration)
	onRefused func(peer, why string)

	ready     atomic.Bool // leader and caught up: consistent reads allowed
	diverged  atomic.Pointer[DivergenceError]
	suspects  atomic.Pointer[suspects] // leader: voters its last check found diverged
	stopCheck chan struct{}            // nil when the check does not run
	checkDone chan struct{}
	mu        sync.Mutex
	subs      []chan bool
	stopWatch chan struct{}
	watchDone chan struct{}
}

// Open starts a replica.
func Open(cfg Config) (*Replica, error) {
	if cfg.ID == "" || cfg.Dir == "" || (cfg.Bind == "") != cfg.Alone {
		return nil, errors.New("replica: ID and Dir are required, and Bind unless (and only unless) Alone")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	log = log.With("replica", cfg.ID)
	var told time.Time // the upgrade's progress, at most once a second
	progress := func(removed int) {
		if time.Since(told) >= time.Second {
			told = time.Now()
			log.Info("upgrading state file: removing retired index keys", "removed", removed)
		}
	}
	e, err := state.OpenEngine(cfg.Dir, state.EngineOptions{NoSync: cfg.NoSync, DeferSync: !cfg.SyncState, OnApply: cfg.OnApply, OnMigrate: progress})
	if err != nil {
		return nil, err
	}
	e.SetAuditKeys(cfg.AuditKeys)
	if e.Discarded() {
		log.Warn("state file was written unsynced before the machine stopped; rebuilding it from the latest snapshot and the log")
	}
	if n := e.Migrated(); n > 0 {
		log.Info("state file upgraded: index keys removed or rebuilt", "keys", n)
	}
	r := &Replica{ID: cfg.ID, Engine: e, log: log, onCommit: cfg.OnCommit, onRefused: cfg.OnRefused}
	fail := func(err error) (*Replica, error) {
		r.closeStores()
		return nil, err
	}
	if r.logs, err = raftstore.Open(filepath.Join(cfg.Dir, "raft.db"), raftstore.Options{NoSync: cfg.NoSync}); err != nil {
		return fail(err)
	}
	hlog := hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Warn, Output: &logline.Writer{Logger: log, Source: "raft"}, JSONFormat: false})
	snaps, err := raft.NewFileSnapshotStoreWithLogger(filepath.Join(cfg.Dir, "snapshots"), 2, hlog)
	if err != nil {
		return fail(fmt.Errorf("replica: snapshots: %w", err))
	}
	r.fsrv.r = r
	var trans raft.Transport
	if cfg.Alone {
		r.Addr, r.inmem = raft.NewInmemTransport(raft.ServerAddress("alone/" + cfg.ID))
		trans = r.inmem
		if len(cfg.Bootstrap) > 0 {
			if len(cfg.Bootstrap) != 1 || string(cfg.Bootstrap[0].ID) != cfg.ID {
				return fail(errors.New("replica: a group of one bootstraps with itself alone"))
			}
			cfg.Bootstrap = []raft.Server{{ID: raft.ServerID(cfg.ID), Address: r.Addr}}
		}
	} else {
		if _, err := net.ResolveTCPAddr("tcp", cfg.Bind); err != nil {
			return fail(fmt.Errorf("replica: bind %q: %w", cfg.Bind, err))
		}
		// No separate advertise address: the listener's own (so ":0" works).
		// Raft and proposal forwarding share the listener (mux.go).
		if r.stream, err = newMuxStream(cfg.Bind, cfg.TLS, cfg.ListenTLS, cfg.DialTLS, r.fsrv.accept); err != nil {
			return fail(fmt.Errorf("replica: transport: %w", err))
		}
		r.fwd.stream = r.stream
		r.transport = raft.NewNetworkTransportWithLogger(r.stream, 8, 10*time.Second, hlog)
		r.Addr = r.transport.LocalAddr()
		trans = noPipeline{r.transport}
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.Logger = hlog
	rc.BatchApplyCh = true
	rc.MaxAppendEntries = 1024
	// The state file holds what it applied (see FSM), so a restart restores
	// no snapshot, unless the file is behind the latest snapshot: discarded
	// after a crash, or deleted. Replaying the log after the snapshot onto
	// such a file would silently lose everything before it.
	// Followers learn of a commit from the next AppendEntries; when writes
	// pause that is CommitTimeout away (default 50 ms). A short one keeps a
	// write forwarded through a follower prompt (forward.go).
	rc.CommitTimeout = 5 * time.Millisecond
	rc.NoSnapshotRestoreOnStart = true
	if behind, err := behindSnapshot(e, snaps); err != nil {
		return fail(err)
	} else if behind {
		rc.NoSnapshotRestoreOnStart = false
		log.Warn("state file is behind the latest snapshot; restoring the snapshot")
	}
	rc.SnapshotThreshold = 8192
	rc.TrailingLogs = 10240
	if cfg.SnapshotThreshold > 0 {
		rc.SnapshotThreshold = cfg.SnapshotThreshold
	}
	if cfg.TrailingLogs > 0 {
		rc.TrailingLogs = cfg.TrailingLogs
	}
	if cfg.Timeout > 0 {
		rc.HeartbeatTimeout, rc.ElectionTimeout = cfg.Timeout, cfg.Timeout
		rc.LeaderLeaseTimeout = cfg.Timeout / 2
	}
	if len(cfg.Bootstrap) > 0 {
		has, err := raft.HasExistingState(r.logs, r.logs, snaps)
		if err != nil {
			return fail(err)
		}
		if !has {
			if err := raft.BootstrapCluster(rc, r.logs, r.logs, snaps, trans, raft.Configuration{Servers: cfg.Bootstrap}); err != nil {
				return fail(fmt.Errorf("replica: bootstrap: %w", err))
			}
		}
	}
	// Recent entries are replicated from memory, not read back from bbolt.
	cached, _ := raft.NewLogCache(LogCacheSize, r.logs)
	r.fsm = NewFSM(e)
	if r.Raft, err = raft.NewRaft(rc, r.fsm, cached, r.logs, snaps, trans); err != nil {
		return fail(fmt.Errorf("replica: raft: %w", err))
	}
	r.co = newCoalescer(r.Raft, 10*time.Second)
	r.stopWatch, r.watchDone = make(chan struct{}), make(chan struct{})
	go r.watchLeadership()
	if every := cmp.Or(cfg.CheckInterval, DefaultCheckInterval); every > 0 {
		r.stopCheck, r.checkDone = make(chan struct{}), make(chan struct{})
		go r.checkLoop(every)
	}
	return r, nil
}

func (r *Replica) closeStores() {
	r.fwd.close()
	r.fsrv.close()
	switch {
	case r.inmem != nil:
		r.inmem.Close()
	case r.transport != nil:
		r.transport.Close()
	case r.stream != nil:
		r.stream.Close()
	}
	if r.logs != nil {
		r.logs.Close()
	}
	if r.Engine != nil {
		r.Engine.Close()
	}
}

// Close stops Raft and closes the files. It does not leave the group. A
// leader first hands leadership to an up-to-date voter, as etcd does on a
// graceful stop, so a planned restart costs the group one vote instead of
// an election timeout of silence.
func (r *Replica) Close() error {
	var err error
	if r.stopWatch != nil {
		close(r.stopWatch)
		<-r.watchDone
		r.stopWatch = nil
	}
	if r.stopCheck != nil {
		close(r.stopCheck)
		<-r.checkDone
		r.stopCheck = nil
	}
	if r.co != nil {
		r.co.close()
	}
	if r.Raft != nil && r.IsLeader() {
		r.handOff()
	}
	if r.Raft != nil {
		err = r.Raft.Shutdown().Error()
	}
	if r.co != nil {
		r.co.raftDown()
		r.co.drain()
	}
	r.closeStores()
	return err
}

// handOff transfers leadership before a leader stops, if another voter can
// take it. Entries in flight get a moment to be answered first, so their
// callers learn the outcome rather than "unknown". A failed transfer only
// means the group elects a leader the usual way.
func (r *Replica) handOff() {
	f := r.Raft.GetConfiguration()
	if f.Error() != nil {
		return
	}
	others := 0
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter && s.ID != raft.ServerID(r.ID) {
			others++
		}
	}
	if others == 0 {
		return
	}
	if r.co != nil {
		r.co.drainFor(time.Second)
	}
	// A transfer times out if the target lags or answers slowly (a loaded
	// machine); one more try usually lands.
	var err error
	for attempt := 0; attempt < 2 && r.IsLeader(); attempt++ {
		if err = r.transferAway(); err == nil {
			r.log.Info("handed leadership over before stopping")
			return
		}
	}
	if err != nil {
		r.log.Warn("leadership transfer before stopping failed; the group will elect a leader", "err", err)
	}
}

// IsLeader reports whether this replica leads its group now.
func (r *Replica) IsLeader() bool { return r.Raft.State() == raft.Leader }

// behindSnapshot reports whether the engine has applied less than the
// latest local snapshot covers.
func behindSnapshot(e *state.Engine, snaps raft.SnapshotStore) (bool, error) {
	list, err := snaps.List()
	if err != nil {
		return false, fmt.Errorf("replica: list snapshots: %w", err)
	}
	if len(list) == 0 {
		return false, nil
	}
	applied, err := e.AppliedIndex()
	if err != nil {
		return false, err
	}
	return applied < list[0].Index, nil
}

// noPipeline turns hashicorp/raft's pipelined replication off. A follower
// that answers Success=false can wedge a pipeline: its next send parks on a
// channel nothing drains, the follower gets no more entries until the
// leader restarts, and Shutdown never returns (it hung a test of ours;
// grafana/pyroscope#5518 traces it). Without a pipeline the leader sends one
// AppendEntries at a time per follower, carrying every entry that waits.
type noPipeline struct{ *raft.NetworkTransport }

// AppendEntriesPipeline implements raft.Transport: not supported.
func (noPipeline) AppendEntriesPipeline(raft.ServerID, raft.ServerAddress) (raft.AppendPipeline, error) {
	return nil, raft.ErrPipelineReplicationNotSupported
}
