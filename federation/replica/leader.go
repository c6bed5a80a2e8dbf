package replica

import (
	"context"

	"github.com/fengqiao/fengqiao/core"
)

// RunLeaderLoops runs the store's time-driven jobs (core.Store.Jobs: overdue
// marks, visit alerts, handover deadlines, rollups, witnesses, token tidy,
// and the plugins' jobs)
// while this replica leads, and stops them when leadership is lost. It
// returns when ctx ends. The jobs are idempotent, so the next leader resumes
// with nothing missed or done twice. Embedded mode runs the same list with
// core.Store.RunJobs.
func (r *Replica) RunLeaderLoops(ctx context.Context, s *core.Store, o core.JobOptions) {
	r.WhileLeader(ctx, func(lctx context.Context) {
		r.log.Info("leader jobs started")
		s.RunJobs(lctx, nil, o) // the store's list, asked again on each pass
		r.log.Info("leader jobs stopped")
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
