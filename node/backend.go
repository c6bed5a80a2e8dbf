package node

import (
	"errors"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/federation/replica"
	"github.com/fengqiao/fengqiao/node/api"
)

// backend adapts a replica to the API.
type backend struct {
	r     *replica.Replica
	s     *core.Store
	peers map[string]string // raft address → API base URL, for leader hints
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

func (b *backend) Ready() error {
	if addr, _ := b.r.Raft.LeaderWithID(); addr == "" {
		return api.NotLeader("")
	}
	return nil
}
