package membership

import "github.com/hashicorp/memberlist"

// delegate is the Pool seen by memberlist: it supplies this member's meta and
// vets everyone else's.
type delegate Pool

// NodeMeta returns the encoded meta; memberlist gossips it with every alive message.
func (d *delegate) NodeMeta(limit int) []byte {
	d.mu.Lock()
	m := d.meta
	d.mu.Unlock()
	raw, err := m.encode()
	if err != nil || len(raw) > limit {
		// Start validated the meta and SetLeader changes only valid fields.
		panic("membership: own meta invalid or oversize")
	}
	return raw
}

// NotifyAlive refuses a member whose meta does not decode and validate, so
// a malformed or foreign member never reaches the leader view.
func (d *delegate) NotifyAlive(n *memberlist.Node) error {
	_, err := decodeMeta(n.Meta)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		if d.refused[n.Name] == "" {
			d.log.Warn("refused a pool member", "member", n.Name, "err", err)
		}
		d.refused[n.Name] = err.Error()
		return err
	}
	delete(d.refused, n.Name)
	return nil
}

// NotifyJoin, NotifyUpdate and NotifyLeave run under memberlist's node lock,
// so copying the node here is race-free where reading Members() later is not.

// NotifyJoin records a member.
func (d *delegate) NotifyJoin(n *memberlist.Node) { d.record(n) }

// NotifyUpdate records a member's new meta.
func (d *delegate) NotifyUpdate(n *memberlist.Node) { d.record(n) }

// NotifyLeave forgets a member that left or was declared dead.
func (d *delegate) NotifyLeave(n *memberlist.Node) {
	d.mu.Lock()
	delete(d.members, n.Name)
	d.mu.Unlock()
}

func (d *delegate) record(n *memberlist.Node) {
	m, err := decodeMeta(n.Meta)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		delete(d.members, n.Name)
		return
	}
	d.members[n.Name] = Member{Name: n.Name, Addr: n.Address(), Meta: m}
}

// The pool carries no user messages or state of its own: what crosses
// between jurisdictions goes through the exchange, durably.

func (d *delegate) NotifyMsg([]byte)                           {}
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *delegate) LocalState(join bool) []byte                { return nil }
func (d *delegate) MergeRemoteState(buf []byte, join bool)     {}
