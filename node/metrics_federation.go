package node

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fengqiao/fengqiao/core"
)

// fedCollector exports each exchange link's replicated state (depth, lag,
// sequences, refusals), the leader's transport record, and the pool's size
// at scrape time. Peer labels are configured jurisdiction codes, never
// anything taken from a request.
type fedCollector struct {
	s   *core.Store
	fed *federation
	now func() time.Time
}

var (
	descDepth    = prometheus.NewDesc("fengqiao_exchange_outbox_depth", "Messages waiting in the outbox for the peer.", []string{"peer", "relation"}, nil)
	descLag      = prometheus.NewDesc("fengqiao_exchange_lag_seconds", "Age of the oldest unacknowledged message to the peer (0 when none).", []string{"peer"}, nil)
	descSent     = prometheus.NewDesc("fengqiao_exchange_sent_sequence", "Last sequence put in the outbox for the peer.", []string{"peer"}, nil)
	descAcked    = prometheus.NewDesc("fengqiao_exchange_acked_sequence", "Last sequence the peer acknowledged.", []string{"peer"}, nil)
	descReceived = prometheus.NewDesc("fengqiao_exchange_received_sequence", "Last sequence applied from the peer.", []string{"peer"}, nil)
	descRefused  = prometheus.NewDesc("fengqiao_exchange_refusals", "Refusals recorded against the peer (dead letters and refused batches).", []string{"peer"}, nil)
	descShipped  = prometheus.NewDesc("fengqiao_exchange_shipped_total", "Messages this leader shipped and had acknowledged.", []string{"peer"}, nil)
	descFailures = prometheus.NewDesc("fengqiao_exchange_send_failures_total", "Failed sends from this leader (each retried with backoff).", []string{"peer"}, nil)
	descMembers  = prometheus.NewDesc("fengqiao_federation_members", "Live members of the federation pool as this node sees them.", nil, nil)
	descLeaders  = prometheus.NewDesc("fengqiao_federation_leaders", "Jurisdictions whose leader this node knows.", nil, nil)
)

func (c *fedCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDepth, descLag, descSent, descAcked, descReceived, descRefused, descShipped, descFailures, descMembers, descLeaders} {
		ch <- d
	}
}

func (c *fedCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if links, err := c.s.Federation.Links(); err == nil {
		for _, l := range links {
			gauge(descDepth, float64(l.Depth), l.Peer, string(l.Relation))
			lag := 0.0
			if !l.Oldest.IsZero() {
				lag = max(0, c.now().Sub(l.Oldest).Seconds())
			}
			gauge(descLag, lag, l.Peer)
			gauge(descSent, float64(l.Sent), l.Peer)
			gauge(descAcked, float64(l.Acked), l.Peer)
			gauge(descReceived, float64(l.Received), l.Peer)
			gauge(descRefused, float64(l.Refused), l.Peer)
		}
	}
	for _, st := range c.fed.ship.Stats() {
		ch <- prometheus.MustNewConstMetric(descShipped, prometheus.CounterValue, float64(st.Shipped), st.Peer)
		ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(st.Failures), st.Peer)
	}
	ms := c.fed.pool.Members()
	gauge(descMembers, float64(len(ms)))
	gauge(descLeaders, float64(len(c.fed.pool.Leaders())))
}

// watchFederation exports the exchange and pool of this replica.
func (m *metrics) watchFederation(s *core.Store, fed *federation) {
	m.reg.MustRegister(&fedCollector{s: s, fed: fed, now: time.Now})
}
