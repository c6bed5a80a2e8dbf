package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/divisions"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/federation/membership"
	"github.com/fengqiao/fengqiao/federation/tlsutil"
)

// Config is a node's configuration file (JSON). Unknown keys are errors, so a
// typo never silently falls back to a default.
type Config struct {
	NodeID       string       `json:"node_id"`      // unique in the group
	Jurisdiction string       `json:"jurisdiction"` // the division this group serves, e.g. 500110
	DataDir      string       `json:"data_dir"`
	HTTP         string       `json:"http"`     // API listen address
	Raft         string       `json:"raft"`     // Raft bind address, also advertised to peers
	KeyFile      string       `json:"key_file"` // sealing keys (fengqiao keygen); the same file on every replica
	Peers        []PeerConfig `json:"peers"`    // every voter of the group, this node included
	LogLevel     string       `json:"log_level,omitempty"`
	// RaftTimeoutMS scales Raft's heartbeat and election timeouts; the node
	// default is 500 ms, suited to a county's LAN (raise it over a WAN).
	RaftTimeoutMS int `json:"raft_timeout_ms,omitempty"`
	// DivergenceCheckSeconds is how often a follower compares its audit
	// chain head with the leader's at the latest checkpoint: 0 means 30 s,
	// -1 turns the check off.
	DivergenceCheckSeconds int `json:"divergence_check_seconds,omitempty"`
	// ReloadSeconds is how often the key file and the TLS files are checked
	// for changes, which take effect without a restart: 0 means 10 s.
	ReloadSeconds int `json:"reload_seconds,omitempty"`
	// BootstrapTokenHours is how long the bootstrap token (FENGQIAO_TOKEN,
	// a security_admin's) works after the group is made: 0 means 24.
	BootstrapTokenHours int `json:"bootstrap_token_hours,omitempty"`
	// SyncState fsyncs the state file on every commit as the Raft log is.
	// Off by default: the log is the durable record, and after a machine
	// crash the state file is rebuilt from the latest snapshot and the log.
	SyncState bool `json:"sync_state,omitempty"`
	// Metrics, when set, serves /metrics on this address alone and not on
	// the API's (production configs put it on loopback, as Prometheus
	// setups expect a scrape address of their own).
	Metrics string `json:"metrics,omitempty"`
	// Pprof, when set, serves net/http/pprof on this address for profiling.
	// It must be a loopback address: profiles and goroutine dumps are for
	// the operator on the machine, never the network.
	Pprof string `json:"pprof,omitempty"`
	// TLS, when set, secures Raft with mutual TLS (every replica's
	// certificate from the federation's CA, naming the replica: see
	// tlsutil.ReplicaName) and serves the API over HTTPS. A group of more
	// than one replica requires it.
	TLS tlsutil.Files `json:"tls,omitzero"`
	// PlainHTTP serves the API without TLS even though tls is set, or on an
	// address off loopback without tls: only when said explicitly, for a
	// node behind a TLS-terminating proxy on the same host or network.
	PlainHTTP bool `json:"plain_http,omitempty"`
	// Federation, when set, joins this group to the federation.
	Federation *FederationSettings `json:"federation,omitempty"`
	// PluginDir, when set, is the directory this node runs plugin binaries
	// from (docs/plugins.md); every replica holds its own copy.
	PluginDir string `json:"plugin_dir,omitempty"`
}

// FederationSettings join a group to the federation: gossip for membership,
// an exchange listener (mutual TLS with the tls files; a peer's certificate
// must name its jurisdiction code), and the links with their sharing policy.
type FederationSettings struct {
	Exchange   string       `json:"exchange"`            // exchange listen and advertised address
	Gossip     string       `json:"gossip"`              // memberlist bind address (UDP and TCP)
	Advertise  string       `json:"advertise,omitempty"` // gossip address others use, if not Gossip
	Join       []string     `json:"join"`                // gossip seeds, retried until one answers
	GossipKeys []string     `json:"gossip_keys"`         // base64 keys (fengqiao federation keygen); the first encrypts
	Profile    string       `json:"profile,omitempty"`   // lan (default), wan or local
	Links      []model.Link `json:"links"`               // sharing policy per linked jurisdiction
	// MaxOutbox bounds each link's unacknowledged messages (default 100000);
	// past it new sends answer 503 until the peer catches up.
	MaxOutbox uint64 `json:"max_outbox,omitempty"`
	// RollupSeconds is how often the leader sends its figures up (default 60).
	RollupSeconds int `json:"rollup_seconds,omitempty"`
}

func (f *FederationSettings) validate(self string, tlsOn bool) error {
	if !tlsOn {
		return errs.Invalid("federation", "tls", "the exchange runs only over mutual TLS: set tls (ca, cert, key)")
	}
	if err := hostPort("federation.exchange", f.Exchange); err != nil {
		return err
	}
	if err := hostPort("federation.gossip", f.Gossip); err != nil {
		return err
	}
	if f.Advertise != "" {
		if err := hostPort("federation.advertise", f.Advertise); err != nil {
			return err
		}
	}
	for i, j := range f.Join {
		if err := hostPort(fmt.Sprintf("federation.join[%d]", i), j); err != nil {
			return err
		}
	}
	if len(f.GossipKeys) == 0 {
		return errs.Invalid("federation.gossip_keys", "required", "gossip is always encrypted: add a key (fengqiao federation keygen)")
	}
	for i, k := range f.GossipKeys {
		if _, err := membership.ParseKey(k); err != nil {
			return errs.Invalid(fmt.Sprintf("federation.gossip_keys[%d]", i), "key", "%v", err)
		}
	}
	switch f.Profile {
	case "", "lan", "wan", "local":
	default:
		return errs.Invalid("federation.profile", "enum", "profile must be lan, wan or local")
	}
	if f.RollupSeconds < 0 {
		return errs.Invalid("federation.rollup_seconds", "range", "rollup_seconds must be positive")
	}
	fc := model.FederationConfig{Self: self, Links: f.Links, MaxOutbox: f.MaxOutbox}
	if err := fc.Validate(); err != nil {
		var fe *errs.FieldError
		if errors.As(err, &fe) {
			return &errs.FieldError{Kind: fe.Kind, Field: "federation." + fe.Field, Rule: fe.Rule, Msg: fe.Msg}
		}
		return err
	}
	return nil
}

// PeerConfig names one replica and where to reach it.
type PeerConfig struct {
	ID   string `json:"id"`
	Raft string `json:"raft"`
	HTTP string `json:"http"`
}

// LoadConfig reads and checks a config file.
func LoadConfig(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return nil, errs.Invalid(strings.Trim(f, `"`), "unknown_key", "%s: unknown key %s", path, f)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, errs.Invalid(te.Field, "type", "%s: %s must be %s, not %s", path, te.Field, te.Type, te.Value)
		}
		return nil, errs.Invalid("config", "json", "%s: %v", path, err)
	}
	return &c, c.Validate()
}

func hostPort(field, v string) error {
	if _, _, err := net.SplitHostPort(v); err != nil {
		return errs.Invalid(field, "address", "%q is not host:port", v)
	}
	return nil
}

// loopback accepts only host:port on a loopback address (127.0.0.0/8, ::1
// or localhost).
func loopback(field, v string) error {
	host, _, err := net.SplitHostPort(v)
	if err != nil {
		return errs.Invalid(field, "address", "%q is not host:port", v)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return errs.Invalid(field, "loopback", "%s must listen on a loopback address, not %q", field, host)
	}
	return nil
}

// Validate checks every field and says which one is wrong.
func (c *Config) Validate() error {
	switch {
	case c.NodeID == "":
		return errs.Invalid("node_id", "required", "node_id is required")
	case c.DataDir == "":
		return errs.Invalid("data_dir", "required", "data_dir is required")
	case c.KeyFile == "":
		return errs.Invalid("key_file", "required", "key_file is required (make one with: fengqiao keygen --out FILE)")
	}
	if err := hostPort("http", c.HTTP); err != nil {
		return err
	}
	if err := hostPort("raft", c.Raft); err != nil {
		return err
	}
	ds, err := divisions.All()
	if err != nil {
		return err
	}
	known := false
	for _, d := range ds {
		known = known || (d.Code == c.Jurisdiction && d.Tier != divisions.Village)
	}
	if !known {
		return errs.Invalid("jurisdiction", "division", "%q is not a province, city, county or township code", c.Jurisdiction)
	}
	ids, addrs := map[string]bool{}, map[string]bool{}
	self := false
	for i, p := range c.Peers {
		f := fmt.Sprintf("peers[%d]", i)
		if p.ID == "" || ids[p.ID] {
			return errs.Invalid(f+".id", "unique", "peer ids must be present and unique")
		}
		if !tlsutil.ValidNodeID(p.ID) {
			return errs.Invalid(f+".id", "format", "a node id is 1..63 lower-case letters, digits and hyphens (it is named in the replica's certificate), not %q", p.ID)
		}
		if err := hostPort(f+".raft", p.Raft); err != nil {
			return err
		}
		if err := hostPort(f+".http", p.HTTP); err != nil {
			return err
		}
		if addrs[p.Raft] {
			return errs.Invalid(f+".raft", "unique", "raft address %s appears twice", p.Raft)
		}
		ids[p.ID], addrs[p.Raft] = true, true
		if p.ID == c.NodeID {
			self = true
			if p.Raft != c.Raft {
				return errs.Invalid(f+".raft", "self", "this node's peer entry says raft %s but raft is %s", p.Raft, c.Raft)
			}
		}
	}
	if !self {
		return errs.Invalid("peers", "self", "peers must include this node (%s)", c.NodeID)
	}
	if c.TLS.Enabled() {
		if err := c.TLS.Validate("tls"); err != nil {
			return err
		}
	}
	// Only the group's own replicas may speak on the Raft port, proven by
	// their certificates; a group of one opens no Raft port at all.
	if len(c.Peers) > 1 && !c.TLS.Enabled() {
		return errs.Invalid("tls", "required", "a group of %d replicas needs mutual TLS between them: set tls (ca_file, cert_file, key_file; make certificates with fengqiao tls cert --jurisdiction %s --node ID)", len(c.Peers), c.Jurisdiction)
	}
	if !c.TLS.Enabled() && !c.PlainHTTP && loopback("http", c.HTTP) != nil {
		return errs.Invalid("http", "tls", "the API would serve plain HTTP on %s, off loopback: set tls, or plain_http: true if a TLS proxy on the same host fronts it", c.HTTP)
	}
	if c.Federation != nil {
		if err := c.Federation.validate(c.Jurisdiction, c.TLS.Enabled()); err != nil {
			return err
		}
	}
	if c.RaftTimeoutMS != 0 && (c.RaftTimeoutMS < 50 || c.RaftTimeoutMS > 60000) {
		return errs.Invalid("raft_timeout_ms", "range", "raft_timeout_ms must be 50..60000")
	}
	if c.BootstrapTokenHours < 0 || c.BootstrapTokenHours > 24*90 {
		return errs.Invalid("bootstrap_token_hours", "range", "bootstrap_token_hours must be 0 (default 24) or 1..2160")
	}
	if c.ReloadSeconds < 0 || c.ReloadSeconds > 3600 {
		return errs.Invalid("reload_seconds", "range", "reload_seconds must be 0 (default 10) or 1..3600")
	}
	if c.DivergenceCheckSeconds < -1 || c.DivergenceCheckSeconds > 86400 {
		return errs.Invalid("divergence_check_seconds", "range", "divergence_check_seconds must be -1 (off), 0 (default 30) or 1..86400")
	}
	if c.Pprof != "" {
		if err := loopback("pprof", c.Pprof); err != nil {
			return err
		}
	}
	if c.Metrics != "" {
		if err := hostPort("metrics", c.Metrics); err != nil {
			return err
		}
		// Metrics are served without TLS: off loopback only when said.
		if err := loopback("metrics", c.Metrics); err != nil && !c.PlainHTTP {
			return errs.Invalid("metrics", "loopback", "metrics are served over plain HTTP: put them on a loopback address, or set plain_http: true to serve them on %s", c.Metrics)
		}
	}
	switch c.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		return errs.Invalid("log_level", "enum", "log_level must be debug, info, warn or error")
	}
	return nil
}

func division(code string) (divisions.Division, error) {
	ds, err := divisions.All()
	if err != nil {
		return divisions.Division{}, err
	}
	for _, d := range ds {
		if d.Code == code {
			return d, nil
		}
	}
	return divisions.Division{}, errs.NotFound("jurisdiction", "no division %s", code)
}

// bootstrapTTL is the bootstrap token's lifetime.
func (c *Config) bootstrapTTL() time.Duration {
	if c.BootstrapTokenHours == 0 {
		return 24 * time.Hour
	}
	return time.Duration(c.BootstrapTokenHours) * time.Hour
}

// alone reports whether the group is this one replica: it opens no Raft port.
func (c *Config) alone() bool { return len(c.Peers) == 1 }

// apiTLS reports whether the API serves HTTPS.
func (c *Config) apiTLS() bool { return c.TLS.Enabled() && !c.PlainHTTP }

// reloadEvery is how often the key and TLS files are checked.
func (c *Config) reloadEvery() time.Duration {
	if c.ReloadSeconds == 0 {
		return 10 * time.Second
	}
	return time.Duration(c.ReloadSeconds) * time.Second
}

// checkInterval maps divergence_check_seconds onto replica.Config.CheckInterval.
func (c *Config) checkInterval() time.Duration {
	if c.DivergenceCheckSeconds < 0 {
		return -1
	}
	return time.Duration(c.DivergenceCheckSeconds) * time.Second
}

// jobOptions sets the intervals of the leader's jobs from the config.
func (c *Config) jobOptions() core.JobOptions {
	var o core.JobOptions
	if f := c.Federation; f != nil && f.RollupSeconds > 0 {
		o.Every = map[string]time.Duration{"rollup": time.Duration(f.RollupSeconds) * time.Second}
	}
	return o
}
