package api

import (
	"net/http"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/model"
)

// sessionView is what a token may do, as core/access says: the console
// decides which pages and actions to offer from it and from nothing else.
type sessionView struct {
	Token tokenView `json:"token"`
	// ScopeName names the token's jurisdiction or grid.
	ScopeName string `json:"scope_name,omitempty"`
	// Node is the jurisdiction this node serves, and its name.
	Node     string `json:"node"`
	NodeName string `json:"node_name,omitempty"`
	// Perms are the permissions the role holds (access.Perm names).
	Perms []string `json:"perms"`
	// Actions are the event actions the role may take in some state, as
	// rows of the transition table: what each needs, so a form can check
	// itself before it is sent.
	Actions []model.Transition `json:"actions"`
}

// session answers who the caller is and what it may do.
func (s *Server) session(w http.ResponseWriter, r *http.Request) error {
	tk := tokenOf(r.Context())
	v := sessionView{Token: viewToken(tk), Node: s.b.Jurisdiction(), Perms: []string{}, Actions: []model.Transition{}}
	for _, p := range access.PermsOf(tk.Role) {
		v.Perms = append(v.Perms, p.String())
	}
	if access.Allows(tk.Role, access.Act) {
		for _, t := range model.Transitions {
			if access.AllowsAction(tk.Role, t.Action) {
				v.Actions = append(v.Actions, t)
			}
		}
	}
	st := s.b.Store()
	if j, err := st.Jurisdictions.Get(v.Node); err == nil {
		v.NodeName = j.Name
	}
	if j, err := st.Jurisdictions.Get(tk.Scope); err == nil {
		v.ScopeName = j.Name
	} else if g, err := st.Grids.Get(tk.Scope); err == nil {
		v.ScopeName = g.Name
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}
