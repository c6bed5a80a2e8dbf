package node

import (
	"errors"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/federation/replica"
	"github.com/fengqiao/fengqiao/node/api"
)

// backend adapts a replica to the API.
type backend struct {
	r *replica.Replica
	s *core.Store
}

func (b *backend) Store() *core.Store { return b.s }

func (b *backend) ReadBarrier() error {
	err := b.r.ReadBarrier()
	var nl *replica.ErrNotLeader
	switch {
	case err == nil:
		return nil
	case errors.As(err, &nl):
		return api.NotLeader(string(nl.Leader))
	case errors.Is(err, replica.ErrNotReady):
		return api.NotLeader(string(b.r.Addr))
	}
	return err
}

func (b *backend) Ready() error {
	if addr, _ := b.r.Raft.LeaderWithID(); addr == "" {
		return api.NotLeader("")
	}
	return nil
}
