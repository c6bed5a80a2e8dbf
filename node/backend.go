package node

import (
	"errors"
	"fmt"
	"io"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/federation/exchange"
	"github.com/fengqiao/fengqiao/federation/membership"
	"github.com/fengqiao/fengqiao/federation/replica"
	"github.com/fengqiao/fengqiao/node/api"
)

// backend adapts a replica to the API.
type backend struct {
	county string
	r      *replica.Replica
	s      *core.Store
	peers  map[string]string // raft address → API base URL, for leader hints
	pool   *membership.Pool  // nil outside a federation
	ship   *exchange.Shipper // nil outside a federation
	chain  *chainCheck       // the audit chain's verification at start; nil: none
}

func (b *backend) Members() ([]membership.Member, error) {
	if b.pool == nil {
		return nil, api.ErrNoPool
	}
	return b.pool.Members(), nil
}

func (b *backend) LinkStats() []exchange.LinkStats {
	if b.ship == nil {
		return nil
	}
	return b.ship.Stats()
}

// hint names the leader by API URL when known, else by Raft address.
func (b *backend) hint(raftAddr string) string {
	if u, ok := b.peers[raftAddr]; ok {
		return u
	}
	return raftAddr
}

func (b *backend) Store() *core.Store { return b.s }

func (b *backend) ReadBarrier() error {
	err := b.r.ReadBarrier()
	var nl *replica.ErrNotLeader
	switch {
	case err == nil:
		return nil
	case errors.As(err, &nl):
		return api.NotLeader(b.hint(string(nl.Leader)))
	case errors.Is(err, replica.ErrNotReady):
		return api.NotLeader(b.hint(string(b.r.Addr)))
	}
	return err
}

func (b *backend) Jurisdiction() string { return b.county }

func (b *backend) Self() string { return b.r.ID }

func (b *backend) Peers() ([]api.Peer, error) {
	ps, err := b.r.Peers()
	out := make([]api.Peer, len(ps))
	for i, p := range ps {
		out[i] = api.Peer(p)
	}
	return out, err
}

// leaderErr turns the replica's not-leader error into the API's, with a hint.
func (b *backend) leaderErr(err error) error {
	var nl *replica.ErrNotLeader
	if errors.As(err, &nl) {
		return api.NotLeader(b.hint(string(nl.Leader)))
	}
	return err
}

func (b *backend) RemovePeer(id string) error { return b.leaderErr(b.r.Remove(id)) }
func (b *backend) AddPeer(id, addr string, voter bool) error {
	return b.leaderErr(b.r.Join(id, addr, voter))
}
func (b *backend) TransferLeader(id string, force bool) error {
	return b.leaderErr(b.r.TransferLeadership(id, force))
}
func (b *backend) Backup(w io.Writer) (int64, error) {
	return b.r.Backup(w)
}

// Restore refuses a backup with values this node's keys cannot open, one
// whose audit chain does not verify, and, unless force, one that would
// move the chain backwards (core.Store.CheckBackup).
func (b *backend) Restore(rd io.Reader, force bool) (core.BackupCheck, error) {
	var bc core.BackupCheck
	err := b.r.RestoreBackup(rd, func(path string) (err error) {
		bc, err = b.s.CheckBackup(path, force)
		return err
	})
	return bc, b.leaderErr(err)
}

// Ready fails without a known leader, and on a replica whose state was
// found to differ from the leader's (it must be rebuilt, not trusted).
func (b *backend) Ready() error {
	if addr, _ := b.r.Raft.LeaderWithID(); addr == "" {
		return api.NotLeader("")
	}
	if err := b.r.Diverged(); err != nil {
		return fmt.Errorf("%w: %v", errs.ErrUnavailable, err)
	}
	if b.chain != nil {
		return b.chain.ready()
	}
	return nil
}
