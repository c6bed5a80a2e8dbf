package api

import (
	"net/http"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/federation/exchange"
	"github.com/fengqiao/fengqiao/federation/membership"
)

// Federation is what the federation routes need of a node.
type Federation interface {
	// Members is this node's view of the federation pool; ErrNoPool when
	// the node runs without one.
	Members() ([]membership.Member, error)
	// LinkStats is the exchange transport's record per link on this node;
	// only the leader ships, so followers have none.
	LinkStats() []exchange.LinkStats
}

// ErrNoPool is what a Backend's Members returns when the node is not in a
// federation pool (a standalone or dev node).
var ErrNoPool = errs.NotFound("federation", "this node is not in a federation pool")

func (s *Server) federationMembers(w http.ResponseWriter, r *http.Request) error {
	ms, err := s.b.Members()
	if err != nil {
		return err
	}
	leaders := map[string]string{}
	for code, m := range membership.Leaders(ms) {
		leaders[code] = m.Name
	}
	if ms == nil {
		ms = []membership.Member{}
	}
	writeJSON(w, http.StatusOK, membersView{Members: ms, Leaders: leaders})
	return nil
}

// linkView is one link: its replicated state (depth, lag, sequences) and,
// on the leader, its transport record.
type linkView struct {
	model.LinkState
	Transport *exchange.LinkStats `json:"transport,omitempty"`
}

func (s *Server) federationLinks(w http.ResponseWriter, r *http.Request) error {
	if err := s.consistent(r); err != nil {
		return err
	}
	links, err := s.b.Store().Federation.Links()
	if err != nil {
		return err
	}
	stats := map[string]exchange.LinkStats{}
	for _, st := range s.b.LinkStats() {
		stats[st.Peer] = st
	}
	out := make([]linkView, len(links))
	for i, l := range links {
		out[i].LinkState = l
		if st, ok := stats[l.Peer]; ok {
			out[i].Transport = &st
		}
	}
	writeJSON(w, http.StatusOK, linksView{Links: out})
	return nil
}
