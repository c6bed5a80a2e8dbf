package replica

import (
	"context"
	"time"

	"github.com/fengqiao/fengqiao/core"
)

// RunLeaderLoops runs the time-driven work — deadline sweeps (overdue marks)
// and visit alerts — while this replica leads, and stops it when leadership
// is lost. It returns when ctx ends. The commands it proposes are idempotent
// (an event is marked overdue once; an alert opens once per visit cycle), so
// the next leader resumes with nothing missed or done twice.
func (r *Replica) RunLeaderLoops(ctx context.Context, s *core.Store, clock func() time.Time, every time.Duration) {
	if clock == nil {
		clock = time.Now
	}
	r.WhileLeader(ctx, func(lctx context.Context) {
		r.log.Info("leader loops started")
		tk := time.NewTicker(every)
		defer tk.Stop()
		for {
			r.sweepOnce(lctx, s, clock())
			select {
			case <-lctx.Done():
				r.log.Info("leader loops stopped")
				return
			case <-tk.C:
			}
		}
	})
}

// WhileLeader runs fn each time this replica becomes leader, cancelling its
// context (and waiting for it) when leadership is lost. It returns when ctx
// ends.
func (r *Replica) WhileLeader(ctx context.Context, fn func(ctx context.Context)) {
	var stop context.CancelFunc
	done := make(chan struct{})
	defer func() {
		if stop != nil {
			stop()
			<-done
		}
	}()
	start := func() {
		var lctx context.Context
		lctx, stop = context.WithCancel(ctx)
		done = make(chan struct{})
		go func() {
			defer close(done)
			fn(lctx)
		}()
	}
	events := r.subscribe()
	defer r.unsubscribe(events)
	if r.IsLeader() {
		start()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case leading := <-events:
			switch {
			case leading && stop == nil:
				start()
			case !leading && stop != nil:
				stop()
				<-done
				stop = nil
			}
		}
	}
}

func (r *Replica) sweepOnce(ctx context.Context, s *core.Store, now time.Time) {
	for {
		n, err := s.Events.Sweep(ctx, now)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("deadline sweep failed", "err", err)
			}
			return
		}
		if n < 1000 {
			break
		}
	}
	if _, err := s.People.SweepVisits(ctx, now); err != nil && ctx.Err() == nil {
		r.log.Warn("visit alerts failed", "err", err)
	}
	// After the index key rotated, new audit records are keyed with it.
	if rekeyed, err := s.KeyAuditChain(ctx); err != nil && ctx.Err() == nil {
		r.log.Warn("keying the audit chain failed", "err", err)
	} else if rekeyed {
		r.log.Info("audit chain keyed with the key file's current index key")
	}
}
