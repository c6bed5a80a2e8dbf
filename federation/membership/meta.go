package membership

import (
	"encoding/json"
	"net"
	"regexp"

	"github.com/hashicorp/memberlist"

	"github.com/fengqiao/fengqiao/core/divisions"
	"github.com/fengqiao/fengqiao/core/errs"
)

// Meta is what a member advertises about itself in the pool.
type Meta struct {
	Jurisdiction string         `json:"jurisdiction"` // the group's division code
	Tier         divisions.Tier `json:"tier"`
	Leader       bool           `json:"leader"`   // leads its group (after its post-election barrier)
	Term         uint64         `json:"term"`     // Raft term of the leader claim; the higher claim wins
	API          string         `json:"api"`      // host:port of the HTTP API
	Exchange     string         `json:"exchange"` // host:port of the exchange receiver
	Version      string         `json:"version"`
}

// wireMeta keeps the gossiped form short: memberlist caps it at 512 bytes.
type wireMeta struct {
	J string `json:"j"`
	T string `json:"t"`
	L bool   `json:"l,omitempty"`
	N uint64 `json:"n,omitempty"`
	A string `json:"a"`
	X string `json:"x"`
	V string `json:"v"`
}

var digits = regexp.MustCompile(`^[0-9]+$`)

var codeLen = map[divisions.Tier]int{
	divisions.Province: 6, divisions.City: 6, divisions.County: 6, divisions.Township: 9,
}

// Validate checks every field, naming the first bad one.
func (m Meta) Validate() error {
	n, ok := codeLen[m.Tier]
	if !ok {
		return errs.Invalid("meta.tier", "enum", "tier must be province, city, county or township, got %q", m.Tier)
	}
	if len(m.Jurisdiction) != n || !digits.MatchString(m.Jurisdiction) {
		return errs.Invalid("meta.jurisdiction", "format", "a %s code is %d digits, got %q", m.Tier, n, m.Jurisdiction)
	}
	if _, _, err := net.SplitHostPort(m.API); err != nil {
		return errs.Invalid("meta.api", "host_port", "want host:port, got %q", m.API)
	}
	if _, _, err := net.SplitHostPort(m.Exchange); err != nil {
		return errs.Invalid("meta.exchange", "host_port", "want host:port, got %q", m.Exchange)
	}
	if m.Version == "" || len(m.Version) > 32 {
		return errs.Invalid("meta.version", "length", "version must be 1–32 bytes, got %d", len(m.Version))
	}
	if m.Leader && m.Term == 0 {
		return errs.Invalid("meta.term", "required", "a leader claim needs its Raft term")
	}
	return nil
}

func (m Meta) encode() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(wireMeta{J: m.Jurisdiction, T: string(m.Tier), L: m.Leader, N: m.Term, A: m.API, X: m.Exchange, V: m.Version})
	if err == nil && len(raw) > memberlist.MetaMaxSize {
		err = errs.Invalid("meta", "size", "encoded meta is %d bytes; gossip allows %d (shorten the addresses)", len(raw), memberlist.MetaMaxSize)
	}
	return raw, err
}

func decodeMeta(raw []byte) (Meta, error) {
	var w wireMeta
	if err := json.Unmarshal(raw, &w); err != nil {
		return Meta{}, errs.Invalid("meta", "json", "undecodable member meta: %v", err)
	}
	m := Meta{Jurisdiction: w.J, Tier: divisions.Tier(w.T), Leader: w.L, Term: w.N, API: w.A, Exchange: w.X, Version: w.V}
	return m, m.Validate()
}
