package core

import (
	"context"
	"time"

	"github.com/fengqiao/fengqiao/core/state"
)

// Job is one piece of time-driven work. Run proposes commands through the
// store and returns when it is done for now. Every job is idempotent — an
// event is marked overdue once, an alert opens once per cycle — so a new
// leader that runs a job again does nothing twice, and one that missed a
// tick catches up on the next.
type Job struct {
	Name  string
	Every time.Duration
	// Next, when set, schedules the job instead of Every: it is the first
	// run after a time (a plugin's cron expression), and Run is given the
	// scheduled time, not the clock, so a run repeated for the same time
	// by a new leader proposes the same commands.
	Next func(after time.Time) time.Time
	Run  func(ctx context.Context, now time.Time) error
}

// jobSource adds jobs to the list, read afresh as the runner goes.
type jobSource struct{ jobs func() []Job }

// AddJobs adds a source of jobs to Jobs — a plugin host adds its plugins'
// — and returns what removes it. The source is asked again on every pass,
// so its jobs come and go with what it runs.
func (s *Store) AddJobs(jobs func() []Job) (remove func()) {
	src := &jobSource{jobs}
	s.jobsMu.Lock()
	s.jobSources = append(s.jobSources, src)
	s.jobsMu.Unlock()
	return func() {
		s.jobsMu.Lock()
		defer s.jobsMu.Unlock()
		for i, o := range s.jobSources {
			if o == src {
				s.jobSources = append(s.jobSources[:i:i], s.jobSources[i+1:]...)
				return
			}
		}
	}
}

// Intervals of the time-driven jobs.
const (
	DeadlineEvery = time.Minute      // overdue marks
	VisitEvery    = time.Minute      // visit alerts
	HandoverEvery = time.Minute      // handover deadlines
	KeyingEvery   = time.Minute      // keying the audit chain after a key rotation
	RollupEvery   = time.Minute      // figures to the tier above
	WitnessEvery  = 30 * time.Second // the audit chain's head to the tier above
	TidyEvery     = 24 * time.Hour   // tokens that can no longer authenticate
	// TidyAfter is how long an expired token stays listed before the tidy
	// job removes it; revoked tokens go at the next tidy.
	TidyAfter = 7 * 24 * time.Hour
)

// Jobs is the list of time-driven work. Embedded mode (RunJobs) and a
// replicated group's leader (federation/replica) run this same list with
// this same code; only what starts and stops the runner differs (Consul's
// leaderRoutineManager plays the same part). Plugins' jobs join it through
// AddJobs.
func (s *Store) Jobs() []Job {
	jobs := s.builtinJobs()
	s.jobsMu.Lock()
	srcs := s.jobSources
	s.jobsMu.Unlock()
	for _, src := range srcs {
		jobs = append(jobs, src.jobs()...)
	}
	return jobs
}

func (s *Store) builtinJobs() []Job {
	return []Job{
		{Name: "deadlines", Every: DeadlineEvery, Run: func(ctx context.Context, now time.Time) error {
			for {
				n, err := s.Events.Sweep(ctx, now)
				if err != nil || n < state.SweepBatch {
					return err
				}
			}
		}},
		{Name: "visit_alerts", Every: VisitEvery, Run: func(ctx context.Context, now time.Time) error {
			_, err := s.People.SweepVisits(ctx, now)
			return err
		}},
		{Name: "handover_deadlines", Every: HandoverEvery, Run: func(ctx context.Context, now time.Time) error {
			_, err := s.Handovers.Sweep(ctx)
			return err
		}},
		{Name: "audit_keying", Every: KeyingEvery, Run: func(ctx context.Context, now time.Time) error {
			rekeyed, err := s.KeyAuditChain(ctx)
			if rekeyed {
				s.log.Info("audit chain keyed with the key file's current index key")
			}
			return err
		}},
		{Name: "rollup", Every: RollupEvery, Run: func(ctx context.Context, now time.Time) error {
			return s.Federation.SendRollup(ctx)
		}},
		{Name: "witness", Every: WitnessEvery, Run: func(ctx context.Context, now time.Time) error {
			_, err := s.Federation.SendWitness(ctx)
			return err
		}},
		{Name: "token_tidy", Every: TidyEvery, Run: func(ctx context.Context, now time.Time) error {
			_, err := s.Tokens.TidyAll(ctx, now.Add(-TidyAfter))
			return err
		}},
	}
}

// JobOptions tune RunJobs.
type JobOptions struct {
	// Clock gives the time a job runs for; default the store's clock.
	Clock func() time.Time
	// Tick is how often due jobs are looked for; default 5 s. A job runs
	// at most once per Tick, so a Tick above a job's Every slows it down.
	Tick time.Duration
	// Scale multiplies every job's interval (tests and the demo shorten
	// them); default 1.
	Scale float64
	// Every sets a job's interval by name, before Scale (a node's
	// rollup_seconds, say).
	Every map[string]time.Duration
}

// RunJobs runs jobs until ctx ends: each as soon as it starts, then once its
// interval has passed, one after another; a scheduled job (Next) at each
// time its schedule names from the start on. A failed job is logged and
// tried again at its next interval. A nil list is s.Jobs(), asked again on
// every pass.
func (s *Store) RunJobs(ctx context.Context, jobs []Job, o JobOptions) {
	if o.Clock == nil {
		o.Clock = s.clock
	}
	if o.Tick <= 0 {
		o.Tick = 5 * time.Second
	}
	if o.Scale <= 0 {
		o.Scale = 1
	}
	list := func() []Job { return jobs }
	if jobs == nil {
		list = s.Jobs
	}
	last := map[string]time.Time{}
	started := o.Clock()
	tk := time.NewTicker(o.Tick)
	defer tk.Stop()
	for {
		for _, j := range list() {
			if ctx.Err() != nil {
				return
			}
			if j.Next != nil {
				from, ok := last[j.Name]
				if !ok {
					from = started
				}
				at := j.Next(from)
				if now := o.Clock(); at.After(now) {
					continue
				}
				last[j.Name] = at
				if err := j.Run(ctx, at); err != nil && ctx.Err() == nil {
					s.log.Warn("job failed; it runs again at its next time", "job", j.Name, "at", at, "err", err)
				}
				continue
			}
			every := j.Every
			if d, ok := o.Every[j.Name]; ok && d > 0 {
				every = d
			}
			every = time.Duration(float64(every) * o.Scale)
			if t, ok := last[j.Name]; ok && time.Since(t) < every {
				continue
			}
			last[j.Name] = time.Now()
			if err := j.Run(ctx, o.Clock()); err != nil && ctx.Err() == nil {
				s.log.Warn("job failed; it runs again at its next interval", "job", j.Name, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
	}
}
