package host

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	pluginv1 "github.com/fengqiao/fengqiao/plugins/proto/fengqiao/plugin/v1"
)

// A plugin's HTTP routes, served by the node under /api/v1/plugins/{name}
// after it authenticated the caller and checked the route's permission and
// the request's jurisdiction (node/api). The plugin sees the request and
// who made it; its answer is bounded and must be JSON.

// MaxHTTPBody bounds a request body handed to a plugin.
const MaxHTTPBody = 1 << 20

// HTTPRequest is a request for one of a plugin's routes.
type HTTPRequest struct {
	Method, Path, Query string // Path is below /api/v1/plugins/{name}
	Body                []byte
	Jurisdiction        string // checked by the caller
	TokenID, Role       string
	Scope               string
	// Key makes the request's commands idempotent (the caller's
	// Idempotency-Key, scoped to its token); "" gives them a fresh key.
	Key string
}

// HTTPResponse is a plugin's answer.
type HTTPResponse struct {
	Status int
	Body   json.RawMessage
}

// Match finds the route of a running plugin a request is for. It answers
// NotFound, as for a missing path, when the plugin or the route is not
// there.
func (m *Manager) Match(name, method, path string) (Route, map[string]string, error) {
	_, rt, params, err := m.match(name, method, path)
	return rt, params, err
}

// match is Match, with the running plugin the route belongs to.
func (m *Manager) match(name, method, path string) (*running, Route, map[string]string, error) {
	m.mu.Lock()
	run, ok := m.running[name]
	m.mu.Unlock()
	if !ok || run.sup == nil {
		return nil, Route{}, nil, errs.NotFound("name", "plugin %s is not running here", name)
	}
	d := run.sup.Status().Description
	if d == nil {
		return nil, Route{}, nil, errs.NotFound("name", "plugin %s is not running here", name)
	}
	for _, rt := range d.Routes {
		if rt.Method != method {
			continue
		}
		if params, ok := matchPattern(rt.Path, path); ok {
			return run, rt, params, nil
		}
	}
	return nil, Route{}, nil, errs.NotFound("path", "plugin %s has no route %s %s", name, method, path)
}

var wildcard = regexp.MustCompile(`^\{([A-Za-z_][A-Za-z0-9_]*)(\.\.\.)?\}$`)

// matchPattern matches a path against a net/http-style pattern and reads
// its wildcards. A path the mux would redirect (unclean, a missing
// trailing slash) does not match.
func matchPattern(pattern, path string) (map[string]string, bool) {
	var got map[string]string
	mux := http.NewServeMux()
	mux.HandleFunc(pattern, func(_ http.ResponseWriter, r *http.Request) {
		got = map[string]string{}
		for _, seg := range splitPath(pattern) {
			if m := wildcard.FindStringSubmatch(seg); m != nil {
				got[m[1]] = r.PathValue(m[1])
			}
		}
	})
	req, err := http.NewRequest(http.MethodGet, "http://x"+path, nil)
	if err != nil {
		return nil, false
	}
	mux.ServeHTTP(nopWriter{}, req)
	return got, got != nil
}

func splitPath(p string) []string {
	var out []string
	start := 1
	for i := 1; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return out
}

type nopWriter struct{}

func (nopWriter) Header() http.Header         { return http.Header{} }
func (nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (nopWriter) WriteHeader(int)             {}

// ServeHTTP hands a checked request to the plugin and checks its answer.
func (m *Manager) ServeHTTP(ctx context.Context, name string, req HTTPRequest) (*HTTPResponse, error) {
	run, rt, params, err := m.match(name, req.Method, req.Path)
	if err != nil {
		return nil, err
	}
	if len(req.Body) > MaxHTTPBody {
		return nil, errs.Invalid("body", "length", "a plugin's request body is at most %d bytes", MaxHTTPBody)
	}
	var cmds []model.PluginCommand
	res, err := callOn(ctx, run, func(p *Plugin) (*HTTPResponse, error) {
		return call(ctx, p, "http", func(ctx context.Context) (*HTTPResponse, error) {
			out, err := p.svc.HandleHTTP(ctx, &pluginv1.HandleHTTPRequest{Method: req.Method, Route: rt.Path, Params: params,
				Query: req.Query, Body: req.Body, Jurisdiction: req.Jurisdiction,
				Caller: &pluginv1.Caller{TokenId: req.TokenID, Role: req.Role, Scope: req.Scope}})
			if err != nil {
				return nil, err
			}
			if out.GetStatus() < 200 || out.GetStatus() > 599 || !json.Valid(out.GetBody()) {
				return nil, bad(name, "HandleHTTP: status %d and a JSON body are required", out.GetStatus())
			}
			if cmds, err = decodeCommands(name, "HandleHTTP", out.GetCommands(), nil); err != nil {
				return nil, err
			}
			return &HTTPResponse{Status: int(out.GetStatus()), Body: out.GetBody()}, nil
		})
	})
	if err != nil || len(cmds) == 0 {
		return res, err
	}
	key := req.Key
	if key == "" {
		key = core.NewID()
	}
	errsOf, err := m.o.Store.Plugins.Execute(ctx, name, "http/"+key, cmds)
	if err != nil {
		return nil, err
	}
	for _, err := range errsOf {
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

// Routes lists the routes of the running plugins, by plugin (OpenAPI).
func (m *Manager) Routes() map[string][]Route {
	out := map[string][]Route{}
	for _, r := range m.runningNow() {
		if r.sup == nil {
			continue
		}
		if d := r.sup.Status().Description; d != nil && len(d.Routes) > 0 {
			out[r.version.Name] = d.Routes
		}
	}
	return out
}

// String names a route in errors and logs.
func (r Route) String() string { return fmt.Sprintf("%s %s", r.Method, r.Path) }
