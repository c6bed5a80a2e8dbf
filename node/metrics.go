package node

import (
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/federation/replica"
	"github.com/fengqiao/fengqiao/federation/tlsutil"
)

// metrics holds a node's Prometheus collectors. Labels carry routes and
// states only — never ids, codes from requests, or personal data.
type metrics struct {
	reg      *prometheus.Registry
	applied  *prometheus.HistogramVec
	batch    prometheus.Histogram
	rejected prometheus.Counter
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	commit   prometheus.Histogram
	// peersRefused counts TLS peers turned away from the Raft port.
	peersRefused prometheus.Counter
	// auth counts refused credentials by outcome (api.Server.OnAuth).
	auth *prometheus.CounterVec
	// forwardRefused counts forwarded proposals the leader refused as replays.
	forwardRefused prometheus.Counter
	// pluginCalls and pluginLatency count plugin hook calls (plugins.go).
	pluginCalls   *prometheus.CounterVec
	pluginLatency *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.applied = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "fengqiao_apply_seconds",
		Help: "Time to apply and commit one batch of commands to the state file.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}, nil)
	m.batch = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "fengqiao_apply_batch_entries",
		Help: "Commands per applied batch.", Buckets: prometheus.ExponentialBuckets(1, 2, 14)})
	m.rejected = prometheus.NewCounter(prometheus.CounterOpts{Name: "fengqiao_apply_rejected_total",
		Help: "Commands rejected at apply time (they changed nothing)."})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fengqiao_http_requests_total",
		Help: "HTTP requests by method, route pattern and status code."}, []string{"method", "route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "fengqiao_http_request_seconds",
		Help: "HTTP request duration by method and route pattern.", Buckets: prometheus.ExponentialBuckets(0.0002, 2, 16)}, []string{"method", "route"})
	m.commit = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "fengqiao_commit_seconds",
		Help: "Time from proposing to Raft until the results are back (replicate, commit, apply).", Buckets: prometheus.ExponentialBuckets(0.0002, 2, 16)})
	m.peersRefused = prometheus.NewCounter(prometheus.CounterOpts{Name: "fengqiao_raft_peers_refused_total",
		Help: "Connections to the Raft port refused because the peer's certificate names no replica of this group."})
	m.auth = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fengqiao_auth_refused_total",
		Help: "Refused credentials: failed (each), locked_out (an address locked out), while_locked (requests refused during a lockout)."}, []string{"outcome"})
	for _, o := range []string{"failed", "locked_out", "while_locked"} {
		m.auth.WithLabelValues(o)
	}
	m.pluginCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fengqiao_plugin_calls_total",
		Help: "Plugin hook calls by plugin, hook and outcome (ok, error)."}, []string{"plugin", "hook", "outcome"})
	m.pluginLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "fengqiao_plugin_call_seconds",
		Help: "Plugin hook call duration by plugin and hook.", Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16)}, []string{"plugin", "hook"})
	m.forwardRefused = prometheus.NewCounter(prometheus.CounterOpts{Name: "fengqiao_forward_refused_total",
		Help: "Forwarded proposals this leader refused: a command seen before, or stamped outside the window."})
	m.reg.MustRegister(m.applied, m.batch, m.rejected, m.requests, m.latency, m.commit, m.peersRefused, m.auth, m.forwardRefused, m.pluginCalls, m.pluginLatency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// onAuth is the API's hook for refused credentials.
func (m *metrics) onAuth(outcome string) { m.auth.WithLabelValues(outcome).Inc() }

// onCommit is the proposer's hook.
func (m *metrics) onCommit(entries int, took time.Duration) { m.commit.Observe(took.Seconds()) }

// observe is the API's hook.
func (m *metrics) observe(method, route string, status int, took time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(took.Seconds())
}

// handler serves /metrics beside the API.
func (m *metrics) handler(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.Handle("/", next)
	return mux
}

// onApply is the engine's hook.
func (m *metrics) onApply(entries, rejected int, took time.Duration) {
	m.applied.WithLabelValues().Observe(took.Seconds())
	m.batch.Observe(float64(entries))
	m.rejected.Add(float64(rejected))
}

// watchRaft exports the replica's Raft state and indexes.
// watchCert exports when the node's certificate expires, for alerts well
// before it does (renewed files are picked up without a restart), how many
// TLS connections are open, and how many were closed because a new CA
// bundle stopped trusting their peers. log hears of each such closing.
func (m *metrics) watchCert(c *tlsutil.Certs, log *slog.Logger) {
	untrusted := prometheus.NewCounter(prometheus.CounterOpts{Name: "fengqiao_tls_untrusted_closed_total",
		Help: "Open TLS connections closed because a new CA bundle no longer trusts the peer."})
	m.reg.MustRegister(untrusted,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fengqiao_tls_cert_not_after_seconds",
			Help: "Unix time at which the node's TLS certificate in use expires."},
			func() float64 { return float64(c.NotAfter().Unix()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fengqiao_tls_connections",
			Help: "Open TLS connections the node made or accepted (API, Raft, exchange)."},
			func() float64 { return float64(c.Live()) }))
	c.OnUntrusted(func(remote net.Addr, err error) {
		untrusted.Inc()
		log.Warn("closed a TLS connection the CA bundle no longer trusts", "remote", remote.String(), "err", err)
	})
}

// watchKeys exports the sealing-key generation in use, so a rotation's
// rollout can be checked on every replica (the key file is reloaded
// without a restart).
func (m *metrics) watchKeys(s *core.Store) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fengqiao_sealing_key_generation",
		Help: "The key generation new values are sealed with."},
		func() float64 { g, _ := s.SealingGeneration(); return float64(g) }))
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fengqiao_sealing_key_generations",
		Help: "How many key generations this node can open."},
		func() float64 { _, n := s.SealingGeneration(); return float64(n) }))
}

func (m *metrics) watchRaft(r *replica.Replica) {
	state := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fengqiao_raft_state",
		Help: "1 for the replica's current Raft state."}, []string{"state"})
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fengqiao_raft_commit_index", Help: "Raft commit index."},
		func() float64 { return float64(r.Raft.CommitIndex()) }))
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fengqiao_raft_last_index", Help: "Last Raft log index."},
		func() float64 { return float64(r.Raft.LastIndex()) }))
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fengqiao_state_applied_index", Help: "Log index the state file holds."},
		func() float64 { i, _ := r.Engine.AppliedIndex(); return float64(i) }))
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fengqiao_replica_diverged",
		Help: "1 once this replica's state was found to differ from the leader's at a checkpoint."},
		func() float64 {
			if r.Diverged() != nil {
				return 1
			}
			return 0
		}))
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fengqiao_replica_voters_diverged",
		Help: "On the leader, the voters its last check found differing from the majority's state (0 on followers)."},
		func() float64 { return float64(len(r.DivergedVoters())) }))
	m.reg.MustRegister(&stateCollector{r: r, g: state})
}

type stateCollector struct {
	r *replica.Replica
	g *prometheus.GaugeVec
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) { c.g.Describe(ch) }
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	cur := c.r.Raft.State()
	for _, s := range []raft.RaftState{raft.Follower, raft.Candidate, raft.Leader, raft.Shutdown} {
		v := 0.0
		if s == cur {
			v = 1
		}
		c.g.WithLabelValues(s.String()).Set(v)
	}
	c.g.Collect(ch)
}
