package node

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/fengqiao/fengqiao/federation/replica"
)

const forwardedHeader = "X-Fengqiao-Forwarded"

// forwarder sends requests that need the leader (writes and consistent reads)
// from a follower to the leader's API, once: a forwarded request is never
// forwarded again, so a stale view of the leader cannot loop.
type forwarder struct {
	next    http.Handler
	r       *replica.Replica
	proxies map[string]*httputil.ReverseProxy // raft address → proxy to that replica's API
}

// newForwarder builds one proxy per peer over one shared transport, so
// forwarded requests reuse warm connections to the leader: a dial (and a TLS
// handshake) per request cost more than the request itself.
func newForwarder(next http.Handler, r *replica.Replica, peers map[string]string, tlsc *tls.Config, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (*forwarder, error) {
	tr := &http.Transport{
		Proxy:               nil, // replicas talk directly, whatever HTTP_PROXY says
		TLSClientConfig:     tlsc,
		ForceAttemptHTTP2:   tlsc != nil,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	if tlsc != nil {
		tr.DialTLSContext = dial // nil: TLSClientConfig
	}
	f := &forwarder{next: next, r: r, proxies: map[string]*httputil.ReverseProxy{}}
	for raftAddr, base := range peers {
		target, err := url.Parse(base)
		if err != nil {
			return nil, err
		}
		p := httputil.NewSingleHostReverseProxy(target)
		p.Transport = tr
		f.proxies[raftAddr] = p
	}
	return f, nil
}

func needsLeader(req *http.Request) bool {
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") || req.URL.Path == "/api/v1/openapi.json" {
		return false
	}
	return req.Method != http.MethodGet || req.URL.Query().Get("stale") != "true"
}

// servedHere reports whether a follower serves the request itself: domain
// writes, whose commands it forwards to the leader (replica.ForwardingProposer)
// after catching up with it. Consistent reads and the group's own
// operations (membership, leadership, restore) go to the leader whole.
func servedHere(req *http.Request) bool {
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		return false
	}
	p := req.URL.Path
	return !strings.HasPrefix(p, "/api/v1/cluster/") && p != "/api/v1/restore"
}

func (f *forwarder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Header.Get(forwardedHeader) == "" && needsLeader(req) && !f.r.IsLeader() {
		// Caught up, the follower has every write acknowledged before this
		// request, so its checks (token, scope, the event acted on) see
		// what the leader's would.
		if servedHere(req) && f.r.CatchUp(req.Context()) == nil {
			f.next.ServeHTTP(w, req)
			return
		}
		addr, _ := f.r.Raft.LeaderWithID()
		if p, ok := f.proxies[string(addr)]; ok {
			req.Header.Set(forwardedHeader, f.r.ID)
			p.ServeHTTP(w, req)
			return
		}
	}
	f.next.ServeHTTP(w, req)
}
