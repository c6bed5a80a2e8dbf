// Package core is Fengqiao's embeddable library: the domain model of grid
// governance (jurisdictions, grids, events, party-building, population) over a
// deterministic state engine on bbolt.
//
// Every change is a Command. A service method validates input, encrypts
// sensitive fields, stamps id, time and actor, and proposes the command; the
// Engine applies it deterministically in one bbolt transaction together with
// its indexes, counters and audit record. Embedded programs use Open, which
// applies through a local group-commit proposer; the replicated node swaps in
// a Raft proposer through New without touching domain code.
package core

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fengqiao/fengqiao/core/keyfile"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/idcard"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/seal"
	"github.com/fengqiao/fengqiao/core/state"
)

// Options configure a Store. The zero value is usable: a key file is made in
// the data directory, the clock is time.Now and logs are discarded.
type Options struct {
	// Keyring seals sensitive fields. Nil loads or creates keys.json in the
	// data directory (mode 0600), which suits development only: keep real keys
	// apart from the data they protect.
	Keyring *seal.Keyring
	// Cipher picks the suite for a generated key file; default AES-256-GCM.
	Cipher seal.Suite
	// Clock stamps commands; default time.Now.
	Clock func() time.Time
	// Logger receives structured logs; default discards.
	Logger *slog.Logger
	// Engine tunes the state file.
	Engine state.EngineOptions
	// MaxAdminTTL bounds the lifetime of administrators' tokens (and is the
	// lifetime of one issued without a TTL); default DefaultMaxAdminTTL.
	MaxAdminTTL time.Duration
	// SecondFactor enrols every administrator's token (access.Admin) in
	// TOTP when it is issued; the entry points then ask for a code
	// (Tokens.CheckSecondFactor). Off for development only.
	SecondFactor bool
}

// Store is the library's entry point: the engine, a proposer and the typed
// services over them.
type Store struct {
	engine *state.Engine
	prop   state.Proposer
	keys   atomic.Pointer[seal.Keyring] // swapped whole by SetKeyring
	clock  func() time.Time
	log    *slog.Logger
	// maxAdminTTL bounds administrators' tokens (Options.MaxAdminTTL).
	maxAdminTTL time.Duration
	// secondFactor enrols administrators' tokens (Options.SecondFactor).
	secondFactor bool
	otp          otpSeen                  // TOTP steps accepted, per token
	hooks        atomic.Pointer[hooksBox] // plugins' hooks (SetHooks)
	jobsMu       sync.Mutex
	jobSources   []*jobSource // added jobs (AddJobs)
	search       searcher     // the full-text index of events
	ids          idcard.Checker

	Jurisdictions *Jurisdictions
	Grids         *Grids
	Events        *Events
	Party         *Party
	People        *People
	Houses        *Houses
	Webhooks      *Webhooks
	Tokens        *Tokens
	Audit         *Audit
	Federation    *Federation
	Cases         *Cases
	Handovers     *Handovers
	Changes       *Changes
	Plugins       *Plugins
}

// keyring is the keyring in use; take it once per operation that needs
// one generation throughout.
func (s *Store) keyring() *seal.Keyring { return s.keys.Load() }

// SetKeyring replaces the keyring, as when a rotated key file is read
// again: values sealed from now on use its current generation. It must
// hold every generation the state still uses (see SealedCensus).
func (s *Store) SetKeyring(kr *seal.Keyring) {
	if kr != nil {
		s.keys.Store(kr)
		s.engine.SetAuditKeys(kr)
	}
}

// SealingGeneration is the key generation new values are sealed with, and
// how many generations the keyring can open (never key material).
func (s *Store) SealingGeneration() (current byte, generations int) {
	kr := s.keyring()
	return kr.KeyID(), kr.Generations()
}

// Open opens an embedded single-node store in dir. Writes are durable when
// the call returns.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Keyring == nil {
		kr, err := keyfile.LoadOrCreate(filepath.Join(dir, "keys.json"), opts.Cipher)
		if err != nil {
			return nil, err
		}
		opts.Keyring = kr
	}
	e, err := state.OpenEngine(dir, opts.Engine)
	if err != nil {
		return nil, err
	}
	s := New(e, state.NewLocal(e), opts)
	// The audit chain is keyed from the start (chainkey.go).
	if _, err := s.KeyAuditChain(WithActor(context.Background(), "open")); err != nil {
		s.Close()
		return nil, fmt.Errorf("core: key the audit chain: %w", err)
	}
	return s, nil
}

// New builds a store over an engine and a proposer (the replicated node
// passes its Raft proposer here). opts.Keyring is required.
func New(e *state.Engine, p state.Proposer, opts Options) *Store {
	s := &Store{engine: e, prop: p, clock: opts.Clock, log: opts.Logger, maxAdminTTL: opts.MaxAdminTTL, secondFactor: opts.SecondFactor}
	if s.maxAdminTTL <= 0 || s.maxAdminTTL > model.MaxTokenTTL {
		s.maxAdminTTL = DefaultMaxAdminTTL
	}
	s.keys.Store(opts.Keyring)
	e.SetAuditKeys(opts.Keyring)
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.ids = idcard.Checker{KnownRegion: state.KnownRegion, Now: s.clock}
	s.Jurisdictions = &Jurisdictions{s: s}
	s.Grids = &Grids{s: s}
	s.Events = &Events{s: s}
	s.Federation = &Federation{s: s}
	s.Cases = &Cases{s: s}
	s.Handovers = &Handovers{s: s}
	s.Changes = &Changes{s: s}
	s.Plugins = &Plugins{s: s}
	s.Party = &Party{s: s}
	s.People = &People{s: s}
	s.Houses = &Houses{s: s}
	s.Webhooks = &Webhooks{s: s}
	s.search.s = s
	s.Tokens = &Tokens{s: s}
	s.Audit = &Audit{s: s}
	return s
}

// Engine exposes the state machine (for snapshots, digests and the node).
func (s *Store) Engine() *state.Engine { return s.engine }

// Close stops the proposer and closes the file.
func (s *Store) Close() error {
	perr := s.prop.Close()
	eerr := s.engine.Close()
	if perr != nil {
		return perr
	}
	return eerr
}

type actorKey struct{}

// WithActor tags ctx with the user or service acting, recorded on every command.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

func actorOf(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "system"
}

type scopeKey struct{}

// WithScope limits the commands proposed under ctx to the jurisdiction
// subtree scope (a token's scope). Apply refuses any change to a record
// outside it as if the record were missing, so an entry point's check before
// proposing is backed by one no concurrent write can race. Without it (the
// node's own jobs, embedding programs) commands are unlimited.
func WithScope(ctx context.Context, scope string) context.Context {
	return context.WithValue(ctx, scopeKey{}, scope)
}

func scopeOf(ctx context.Context) string {
	s, _ := ctx.Value(scopeKey{}).(string)
	return s
}

// NewID returns a random 128-bit id in hex.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// command builds a stamped command for payload.
func (s *Store) command(ctx context.Context, typ, jur string, payload any) (*state.Command, error) {
	raw, err := state.EncodeRecord(payload)
	if err != nil {
		return nil, fmt.Errorf("core: %s payload: %w", typ, err)
	}
	version, ok := state.CommandVersion(typ)
	if !ok {
		return nil, fmt.Errorf("core: no handler for %s", typ)
	}
	return &state.Command{Type: typ, Version: version, ID: commandID(ctx), At: s.clock().UTC(), Actor: actorOf(ctx), Jurisdiction: jur, Scope: scopeOf(ctx), Level: state.RuleLevel, Digest: requestDigest(ctx), Payload: raw}, nil
}

// applyAll proposes commands together (one transaction under Local) and
// returns the first rejection.
func (s *Store) applyAll(ctx context.Context, cmds []*state.Command) error {
	for start := 0; start < len(cmds); start += 1000 {
		res, err := s.applyCommands(ctx, cmds[start:min(start+1000, len(cmds))])
		if err != nil {
			return err
		}
		for _, r := range res {
			if r.Err != nil {
				return r.Err
			}
		}
	}
	return nil
}

// applyAs proposes one command and returns its value as T. A handler that
// returns nil (say, an unchanged contact mark) yields T's zero value.
func applyAs[T any](ctx context.Context, s *Store, typ, jur string, payload any) (T, error) {
	var zero T
	v, err := s.apply(ctx, typ, jur, payload)
	if err != nil || v == nil {
		return zero, err
	}
	return v.(T), nil
}

// apply proposes one command and returns its value or rejection.
func (s *Store) apply(ctx context.Context, typ, jur string, payload any) (any, error) {
	c, err := s.command(ctx, typ, jur, payload)
	if err != nil {
		return nil, err
	}
	return s.applyOne(ctx, c)
}

// applyOne proposes one prepared command (one an import would batch) and
// returns its value or rejection.
func (s *Store) applyOne(ctx context.Context, c *state.Command) (any, error) {
	res, err := s.applyCommands(ctx, []*state.Command{c})
	if err != nil {
		return nil, err
	}
	return res[0].Value, res[0].Err
}

// prepared proposes a command prepare made and returns its value as T.
func prepared[T any](ctx context.Context, s *Store, c *state.Command, err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	v, err := s.applyOne(ctx, c)
	if err != nil || v == nil {
		return zero, err
	}
	return v.(T), nil
}

func (s *Store) applyCommands(ctx context.Context, cmds []*state.Command) ([]state.Result, error) {
	data := make([][]byte, len(cmds))
	for i, c := range cmds {
		b, err := c.Encode()
		if err != nil {
			return nil, err
		}
		data[i] = b
	}
	res, err := s.prop.Propose(ctx, data)
	if err != nil {
		return nil, fmt.Errorf("core: propose: %w", err)
	}
	for i, r := range res {
		if r.Err != nil {
			s.log.Debug("command rejected", "type", cmds[i].Type, "id", cmds[i].ID, "err", errs.Field(r.Err))
		}
	}
	return res, nil
}
