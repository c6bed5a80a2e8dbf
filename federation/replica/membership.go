package replica

import (
	"fmt"
	"net"
	"sort"
	"time"

	"github.com/hashicorp/raft"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Peer is one member of the group as this replica sees it.
type Peer struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	Voter   bool   `json:"voter"`
	Leader  bool   `json:"leader"`
	// DivergedAt is the checkpoint where this peer's state was found to
	// differ (0: none known): a replica knows this of itself, the leader
	// of every voter its last check outvoted.
	DivergedAt uint64 `json:"diverged_at,omitempty"`
}

const changeTimeout = 10 * time.Second

// Peers lists the group's configuration, sorted by id.
func (r *Replica) Peers() ([]Peer, error) {
	f := r.Raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("replica: configuration: %w", err)
	}
	_, leader := r.Raft.LeaderWithID()
	bad := r.divergedPeers()
	var out []Peer
	for _, s := range f.Configuration().Servers {
		p := Peer{ID: string(s.ID), Address: string(s.Address), Voter: s.Suffrage == raft.Voter, Leader: s.ID == leader, DivergedAt: bad[string(s.ID)]}
		if d := r.diverged.Load(); d != nil && p.ID == r.ID {
			p.DivergedAt = d.Index
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Member reports whether id is in the group's Raft configuration now, as a
// voter or not: whom the Raft port may admit besides the configured peers.
func (r *Replica) Member(id string) bool {
	f := r.Raft.GetConfiguration()
	if f.Error() != nil {
		return false
	}
	for _, s := range f.Configuration().Servers {
		if string(s.ID) == id {
			return true
		}
	}
	return false
}

func (r *Replica) requireLeader() error {
	if !r.IsLeader() {
		addr, _ := r.Raft.LeaderWithID()
		return &ErrNotLeader{Leader: addr}
	}
	return nil
}

func checkPeer(id, addr string) error {
	if id == "" || len(id) > 64 {
		return errs.Invalid("id", "format", "peer id must be 1..64 characters")
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return errs.Invalid("address", "format", "peer address %q is not host:port", addr)
	}
	return nil
}

// errAlone refuses what a group of one (Config.Alone) cannot do.
var errAlone = errs.Conflict("id", "alone", "this replica runs as a group of one with no Raft listener; a group that takes members is configured with every peer and mutual TLS from the start")

// Join adds a replica to the group, as a voter or a non-voter (which
// replicates and serves stale reads but does not vote). Leader only.
func (r *Replica) Join(id, addr string, voter bool) error {
	if err := checkPeer(id, addr); err != nil {
		return err
	}
	if r.inmem != nil {
		return errAlone
	}
	if err := r.requireLeader(); err != nil {
		return err
	}
	peers, err := r.Peers()
	if err != nil {
		return err
	}
	for _, p := range peers {
		if p.ID == id && p.Address == addr && p.Voter == voter {
			return nil // already a member as asked: joining is idempotent
		}
		if p.ID != id && p.Address == addr {
			return errs.Conflict("address", "in_use", "address %s belongs to peer %s", addr, p.ID)
		}
	}
	var f raft.IndexFuture
	if voter {
		f = r.Raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, changeTimeout)
	} else {
		f = r.Raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(addr), 0, changeTimeout)
	}
	if err := f.Error(); err != nil {
		return fmt.Errorf("replica: join %s: %w", id, err)
	}
	return nil
}

// Remove takes a replica out of the group. Leader only.
func (r *Replica) Remove(id string) error {
	if err := r.requireLeader(); err != nil {
		return err
	}
	peers, err := r.Peers()
	if err != nil {
		return err
	}
	found := false
	for _, p := range peers {
		found = found || p.ID == id
	}
	if !found {
		return errs.NotFound("id", "no peer %q in the group", id)
	}
	if err := r.Raft.RemoveServer(raft.ServerID(id), 0, changeTimeout).Error(); err != nil {
		return fmt.Errorf("replica: remove %s: %w", id, err)
	}
	r.forget(id)
	return nil
}

// TransferLeadership hands leadership to the given voter, or to any
// up-to-date voter when id is "". It refuses a voter the last check found
// diverged (ErrPeerDiverged) unless force is set, and skips such voters
// when id is "". Leader only.
func (r *Replica) TransferLeadership(id string, force bool) error {
	if err := r.requireLeader(); err != nil {
		return err
	}
	if id == "" {
		return r.transferAway()
	}
	peers, err := r.Peers()
	if err != nil {
		return err
	}
	for _, p := range peers {
		if p.ID == id {
			if !p.Voter {
				return errs.Invalid("id", "voter", "peer %s is a non-voter and cannot lead", id)
			}
			if !force {
				if err := r.checkTarget(id); err != nil {
					return err
				}
			}
			return r.Raft.LeadershipTransferToServer(raft.ServerID(id), raft.ServerAddress(p.Address)).Error()
		}
	}
	return errs.NotFound("id", "no peer %q in the group", id)
}
