package node

import (
	"crypto/tls"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/fengqiao/fengqiao/federation/replica"
)

const forwardedHeader = "X-Fengqiao-Forwarded"

// forwarder sends requests that need the leader (writes and consistent reads)
// from a follower to the leader's API, once: a forwarded request is never
// forwarded again, so a stale view of the leader cannot loop.
type forwarder struct {
	next  http.Handler
	r     *replica.Replica
	peers map[string]string // raft address → API base URL
	tls   *tls.Config       // trusts the group's CA when the API is HTTPS
}

func needsLeader(req *http.Request) bool {
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") || req.URL.Path == "/api/v1/openapi.json" {
		return false
	}
	return req.Method != http.MethodGet || req.URL.Query().Get("stale") != "true"
}

func (f *forwarder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Header.Get(forwardedHeader) == "" && needsLeader(req) && !f.r.IsLeader() {
		addr, _ := f.r.Raft.LeaderWithID()
		if base, ok := f.peers[string(addr)]; ok {
			target, _ := url.Parse(base)
			proxy := httputil.NewSingleHostReverseProxy(target)
			if f.tls != nil {
				proxy.Transport = &http.Transport{TLSClientConfig: f.tls}
			}
			req.Header.Set(forwardedHeader, f.r.ID)
			proxy.ServeHTTP(w, req)
			return
		}
	}
	f.next.ServeHTTP(w, req)
}
