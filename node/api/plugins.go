package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/plugins/host"
)

// PluginHost is a node's plugin manager (plugins/host.Manager).
type PluginHost interface {
	Register(ctx context.Context, reg host.Registration) (*model.PluginVersion, error)
	Statuses() map[string]host.Status
	Routes() map[string][]host.Route
	Match(name, method, path string) (host.Route, map[string]string, error)
	ServeHTTP(ctx context.Context, name string, req host.HTTPRequest) (*host.HTTPResponse, error)
}

// pluginView is a catalog entry with the plugin's state on the node that
// answered (?stale=true asks a follower for its own).
type pluginView struct {
	model.PluginInfo
	Node   string       `json:"node"`
	Status *host.Status `json:"status,omitempty"`
}

type pluginsView struct {
	Plugins []pluginView `json:"plugins"`
}

// enableRequest names the version to switch to.
type enableRequest struct {
	Version string `json:"version"`
}

func (s *Server) pluginHost() (PluginHost, error) {
	if s.Plugins == nil {
		return nil, errs.NotFound("path", "this node runs no plugins")
	}
	return s.Plugins, nil
}

func (s *Server) viewOf(info model.PluginInfo) pluginView {
	v := pluginView{PluginInfo: info, Node: s.b.Self()}
	if s.Plugins != nil {
		if st, ok := s.Plugins.Statuses()[info.Name]; ok {
			v.Status = &st
		}
	}
	return v
}

func (s *Server) listPlugins(w http.ResponseWriter, r *http.Request) error {
	all, err := s.b.Store().Plugins.List()
	if err != nil {
		return err
	}
	out := pluginsView{Plugins: []pluginView{}}
	for _, info := range all {
		out.Plugins = append(out.Plugins, s.viewOf(info))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getPlugin(w http.ResponseWriter, r *http.Request) error {
	info, err := s.b.Store().Plugins.Get(r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.viewOf(*info))
	return nil
}

func (s *Server) registerPlugin(w http.ResponseWriter, r *http.Request) error {
	ph, err := s.pluginHost()
	if err != nil {
		return err
	}
	var reg host.Registration
	if err := decode(r, &reg); err != nil {
		return err
	}
	v, err := ph.Register(r.Context(), reg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// enablePlugin switches a plugin to a version; the voters are the group's
// as this node sees them, and apply refuses unless each reported the binary.
func (s *Server) enablePlugin(w http.ResponseWriter, r *http.Request) error {
	var req enableRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	peers, err := s.b.Peers()
	if err != nil {
		return err
	}
	var voters []string
	for _, p := range peers {
		if p.Voter {
			voters = append(voters, p.ID)
		}
	}
	a, err := s.b.Store().Plugins.Enable(r.Context(), r.PathValue("name"), req.Version, voters)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) disablePlugin(w http.ResponseWriter, r *http.Request) error {
	if err := s.b.Store().Plugins.Disable(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pluginRoute serves a plugin's own route. The table's Read is the least a
// caller needs; the route's own permission is checked here, and so is its
// ?jurisdiction=, which must lie in the caller's scope (else it reads as
// missing) and in the plugin's jurisdictions.
func (s *Server) pluginRoute(w http.ResponseWriter, r *http.Request) error {
	ph, err := s.pluginHost()
	if err != nil {
		return err
	}
	tk := tokenOf(r.Context())
	name := r.PathValue("name")
	path := "/" + r.PathValue("path")
	route, _, err := ph.Match(name, r.Method, path)
	if err != nil {
		return errs.NotFound("path", "no such endpoint %s", r.URL.Path)
	}
	perm := map[string]access.Perm{"read": access.Read, "report": access.Report, "act": access.Act}[route.Perm]
	if !access.Allows(tk.Role, perm) {
		return &errs.FieldError{Kind: errs.ErrForbidden, Field: "role", Rule: "permission", Msg: "role " + tk.Role + " may not do this (needs " + perm.String() + ")"}
	}
	jur, err := s.underParam(r)
	if err != nil {
		return err
	}
	v, err := s.b.Store().Plugins.Running(name)
	if err != nil {
		return errs.NotFound("path", "no such endpoint %s", r.URL.Path)
	}
	if !v.Covers(jur) {
		return errs.NotFound("jurisdiction", "jurisdiction %s not found", jur)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, host.MaxHTTPBody+1))
	if err != nil {
		return errs.Invalid("body", "read", "the body could not be read")
	}
	req := host.HTTPRequest{Method: r.Method, Path: path, Query: r.URL.RawQuery, Body: body,
		Jurisdiction: jur, TokenID: tk.ID, Role: tk.Role, Scope: tk.Scope}
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		sum := sha256.Sum256([]byte(tk.ID + ":" + key)) // scoped to the token, as every key is
		req.Key = hex.EncodeToString(sum[:16])
	}
	res, err := ph.ServeHTTP(r.Context(), name, req)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(res.Status)
	w.Write(res.Body)
	return nil
}
