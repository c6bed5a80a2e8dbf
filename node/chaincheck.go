package node

import (
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/state"
)

// chainCheck is the verification of the audit chain a node runs when it
// starts: until it passes the node is not ready, and a chain that fails is
// logged at error level, exposed as fengqiao_audit_chain_ok 0, and keeps
// /readyz failing, so a tampered node takes no traffic.
type chainCheck struct {
	state atomic.Int32 // 0 running, 1 ok, -1 failed
	err   atomic.Pointer[error]
}

// run verifies e's chain (once; call it in its own goroutine).
func (cc *chainCheck) run(e *state.Engine, log *slog.Logger) {
	rep, err := e.VerifyAudit()
	if err != nil {
		cc.err.Store(&err)
		cc.state.Store(-1)
		log.Error("the audit chain fails verification: this node stays not ready", "first_bad", rep.FirstBad, "problem", rep.Problem, "err", err)
		return
	}
	cc.state.Store(1)
	log.Info("audit chain verified", "records", rep.Records, "keyed", rep.Keyed)
}

// ready is nil once the chain verified.
func (cc *chainCheck) ready() error {
	switch cc.state.Load() {
	case 1:
		return nil
	case 0:
		return fmt.Errorf("%w: the audit chain is being verified", errs.ErrUnavailable)
	}
	return fmt.Errorf("%w: the audit chain failed verification: %v", errs.ErrUnavailable, *cc.err.Load())
}

// watchChain exports fengqiao_audit_chain_ok: 1 verified, 0 failed, -1 not
// yet known.
func (m *metrics) watchChain(cc *chainCheck) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fengqiao_audit_chain_ok",
		Help: "1 when the audit chain verified at start, 0 when it failed (the node is then not ready), -1 while it is being verified."},
		func() float64 {
			switch cc.state.Load() {
			case 1:
				return 1
			case -1:
				return 0
			}
			return -1
		}))
}
