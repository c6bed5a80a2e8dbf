package state

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"go.etcd.io/bbolt"
)

// NextHLC returns a hybrid logical clock reading after seen: wall-clock
// milliseconds in the high 48 bits, a counter in the low 16.
func NextHLC(wall time.Time, seen uint64) uint64 {
	if p := uint64(wall.UnixMilli()) << 16; p > seen {
		return p
	}
	return seen + 1
}

// HLCTime is the physical part of an HLC reading.
func HLCTime(h uint64) time.Time { return time.UnixMilli(int64(h >> 16)).UTC() }

// CaseOpenPayload is the payload of case.open.
type CaseOpenPayload struct {
	Title        string   `json:"title"`
	Description  string   `json:"description"`
	Participants []string `json:"participants"`
}

// CaseEntryPayload is the payload of case.entry.
type CaseEntryPayload struct {
	Case string `json:"case"`
	Text string `json:"text"`
	HLC  uint64 `json:"hlc"`
}

// CaseStatusPayload is the payload of case.status.
type CaseStatusPayload struct {
	Case   string `json:"case"`
	Status string `json:"status"`
}

// CaseLeadPayload is the payload of case.lead.
type CaseLeadPayload struct {
	Case string `json:"case"`
	To   string `json:"to"`
}

type caseEntryBody struct {
	Case  string          `json:"case"`
	Entry model.CaseEntry `json:"entry"`
}

type caseStateBody struct {
	Case      string `json:"case"`
	Status    string `json:"status,omitempty"`
	StatusVer uint64 `json:"status_ver"`
	Lead      string `json:"lead"`
	LeadEpoch uint64 `json:"lead_epoch"`
}

// Check applies the input rules of opening a case.
func (p *CaseOpenPayload) Check() error {
	if p.Title == "" || len(p.Title) > 200 {
		return errs.Invalid("title", "required", "title is required (at most 200 bytes)")
	}
	if len(p.Description) > model.MaxText {
		return errs.Invalid("description", "length", "description is longer than %d bytes", model.MaxText)
	}
	if len(p.Participants) == 0 || len(p.Participants) > 16 {
		return errs.Invalid("participants", "required", "a case needs 1 to 16 other participants")
	}
	for i, c := range p.Participants {
		if !model.ValidCode(c) {
			return errs.Invalid("participants["+strconv.Itoa(i)+"]", "format", "%q is not a division code", c)
		}
	}
	return nil
}

// loadCase loads a case. Cases belong to the whole jurisdiction: a command
// whose scope does not cover it finds none.
func (t *txn) loadCase(c *Command, field, id string) (*model.Case, error) {
	self := t.self()
	return loadIn(t, c, bCase, id, field, "case", func(*model.Case) string { return self })
}

func applyCaseOpen(t *txn, c *Command, p *CaseOpenPayload) (any, error) {
	if inputRules(c) {
		if err := p.Check(); err != nil {
			return nil, err
		}
	}
	self := t.self()
	if self == "" {
		return nil, errs.Conflict("federation", "unconfigured", "this jurisdiction has no federation configuration")
	}
	if hidden(c, self) {
		return nil, errs.Forbidden("scope", "node_wide", "a case is opened by a token whose scope covers %s", self)
	}
	parts := append([]string{self}, p.Participants...)
	slices.Sort(parts)
	parts = slices.Compact(parts)
	seq, _ := t.nextSeq("case/" + c.At.Format("20060102"))
	cs := &model.Case{ID: self + "-" + c.At.Format("20060102") + "-C" + strconv.FormatUint(seq, 10), Title: p.Title,
		Description: p.Description, Lead: self, LeadEpoch: 1, Participants: parts, Status: "open", StatusVer: 1 << 32, OpenedAt: c.At}
	if err := t.putRecord(bCase, []byte(cs.ID), cs); err != nil {
		return nil, err
	}
	for _, d := range cs.Others(self) {
		if err := t.send(c, d, model.KindCaseOpen, cs); err != nil {
			return nil, err
		}
	}
	return cs, nil
}

func receiveCaseOpen(t *txn, c *Command, l *model.Link, m *model.Message) error {
	var cs model.Case
	if err := DecodeBody(m, &cs); err != nil {
		return err
	}
	if cs.Lead != m.Origin || !slices.Contains(cs.Participants, t.self()) || cs.ID == "" {
		return errs.Invalid("body", "participants", "case %s is not led by %s with this jurisdiction taking part", cs.ID, m.Origin)
	}
	if t.b(bCase).Get([]byte(cs.ID)) != nil {
		return nil
	}
	cs.Entries = nil
	return t.putRecord(bCase, []byte(cs.ID), &cs)
}

func caseEntryKey(caseID string, e *model.CaseEntry) []byte {
	k := append([]byte(caseID+"/"), U64(e.HLC)...)
	return append(k, []byte("/"+e.Author+"/"+e.ID)...)
}

// addEntry stores e once; it reports false when e was already here.
func (t *txn) addEntry(cs *model.Case, e *model.CaseEntry) (bool, error) {
	seen := []byte(cs.ID + "/" + e.ID)
	if t.b(bCaseSeen).Get(seen) != nil {
		return false, nil
	}
	if err := t.b(bCaseSeen).Put(seen, nil); err != nil {
		return false, err
	}
	if GetU64(t.b(BucketMeta).Get(metaHLC)) < e.HLC {
		if err := t.b(BucketMeta).Put(metaHLC, U64(e.HLC)); err != nil {
			return false, err
		}
	}
	return true, t.putRecord(bCaseEnt, caseEntryKey(cs.ID, e), e)
}

// routeEntry passes an entry on, as a star around the lead: the author sends
// to the lead, the lead to everyone else; a former lead forwards to the new.
func (t *txn) routeEntry(c *Command, cs *model.Case, e *model.CaseEntry, from string) error {
	self := t.self()
	var dests []string
	if cs.Lead == self {
		for _, p := range cs.Others(self) {
			if p != from && p != e.Author {
				dests = append(dests, p)
			}
		}
	} else if cs.Lead != from && cs.Lead != e.Author {
		dests = []string{cs.Lead}
	}
	for _, d := range dests {
		if err := t.send(c, d, model.KindCaseEntry, caseEntryBody{Case: cs.ID, Entry: *e}); err != nil {
			return err
		}
	}
	return nil
}

func applyCaseEntry(t *txn, c *Command, p *CaseEntryPayload) (any, error) {
	if p.Text == "" || len(p.Text) > model.MaxText {
		return nil, errs.Invalid("text", "required", "text is required (at most %d bytes)", model.MaxText)
	}
	if p.HLC == 0 {
		return nil, errs.Invalid("hlc", "required", "an entry needs a clock reading")
	}
	cs, err := t.loadCase(c, "case", p.Case)
	if err != nil {
		return nil, err
	}
	self := t.self()
	e := &model.CaseEntry{ID: self + "/" + c.ID, Author: self, Actor: c.Actor, Text: p.Text, HLC: p.HLC, At: HLCTime(p.HLC)}
	if _, err := t.addEntry(cs, e); err != nil {
		return nil, err
	}
	return e, t.routeEntry(c, cs, e, "")
}

func receiveCaseEntry(t *txn, c *Command, l *model.Link, m *model.Message) error {
	var b caseEntryBody
	if err := DecodeBody(m, &b); err != nil {
		return err
	}
	cs, err := t.loadCase(c, "body.case", b.Case)
	if err != nil {
		return err
	}
	e := b.Entry
	if e.ID == "" || e.HLC == 0 || !slices.Contains(cs.Participants, e.Author) || !slices.Contains(cs.Participants, m.Origin) {
		return errs.Invalid("body.entry", "author", "entry %q is not from a participant of %s", e.ID, cs.ID)
	}
	if len(e.Text) > model.MaxText {
		return errs.Invalid("body.entry.text", "length", "text is longer than %d bytes", model.MaxText)
	}
	added, err := t.addEntry(cs, &e)
	if err != nil || !added {
		return err
	}
	return t.routeEntry(c, cs, &e, m.Origin)
}

func (t *txn) broadcastCase(c *Command, cs *model.Case, kind string) error {
	for _, d := range cs.Others(t.self()) {
		if err := t.send(c, d, kind, caseStateBody{Case: cs.ID, Status: cs.Status, StatusVer: cs.StatusVer, Lead: cs.Lead, LeadEpoch: cs.LeadEpoch}); err != nil {
			return err
		}
	}
	return t.putRecord(bCase, []byte(cs.ID), cs)
}

func applyCaseStatus(t *txn, c *Command, p *CaseStatusPayload) (any, error) {
	if !slices.Contains(model.CaseStatuses, p.Status) {
		return nil, errs.Invalid("status", "enum", "status must be one of %v", model.CaseStatuses)
	}
	cs, err := t.loadCase(c, "case", p.Case)
	if err != nil {
		return nil, err
	}
	if cs.Lead != t.self() {
		return nil, errs.Forbidden("case", "not_lead", "only the lead (%s) changes the status of %s", cs.Lead, cs.ID)
	}
	cs.Status, cs.StatusVer = p.Status, cs.StatusVer+1
	return cs, t.broadcastCase(c, cs, model.KindCaseStatus)
}

func applyCaseLead(t *txn, c *Command, p *CaseLeadPayload) (any, error) {
	cs, err := t.loadCase(c, "case", p.Case)
	if err != nil {
		return nil, err
	}
	self := t.self()
	if cs.Lead != self {
		return nil, errs.Forbidden("case", "not_lead", "only the lead (%s) hands %s over", cs.Lead, cs.ID)
	}
	if p.To == self || !slices.Contains(cs.Participants, p.To) {
		return nil, errs.Invalid("to", "participant", "the new lead must be another participant of %s", cs.ID)
	}
	cs.Lead, cs.LeadEpoch = p.To, cs.LeadEpoch+1
	cs.StatusVer = cs.LeadEpoch << 32
	return cs, t.broadcastCase(c, cs, model.KindCaseLead)
}

// receiveCaseState takes a status change or a new lead when it is newer than
// what this participant holds; epochs order leads, versions order statuses.
func receiveCaseState(t *txn, c *Command, l *model.Link, m *model.Message) error {
	var b caseStateBody
	if err := DecodeBody(m, &b); err != nil {
		return err
	}
	cs, err := t.loadCase(c, "body.case", b.Case)
	if err != nil {
		return err
	}
	if !slices.Contains(cs.Participants, m.Origin) || !slices.Contains(cs.Participants, b.Lead) {
		return errs.Forbidden("body", "participant", "%s is not a participant of %s", m.Origin, cs.ID)
	}
	// Only a lead speaks for its epoch: the sender must be the lead it names,
	// or the lead it hands over from.
	if m.Kind == model.KindCaseStatus && b.Lead != m.Origin {
		return errs.Forbidden("body.lead", "not_lead", "%s is not the lead it claims (%s)", m.Origin, b.Lead)
	}
	becameLead := false
	if b.LeadEpoch > cs.LeadEpoch {
		becameLead = b.Lead == t.self() && cs.Lead != b.Lead
		cs.Lead, cs.LeadEpoch = b.Lead, b.LeadEpoch
	}
	if b.StatusVer > cs.StatusVer {
		if b.Status != "" && !slices.Contains(model.CaseStatuses, b.Status) {
			return errs.Invalid("body.status", "enum", "unknown status %q", b.Status)
		}
		if b.Status != "" {
			cs.Status = b.Status
		}
		cs.StatusVer = b.StatusVer
	}
	if becameLead {
		// Entries written here before the handover went only to the old
		// lead; as the hub now, offer everything once (receivers dedupe).
		if err := t.resendEntries(c, cs); err != nil {
			return err
		}
	}
	return t.putRecord(bCase, []byte(cs.ID), cs)
}

func (t *txn) resendEntries(c *Command, cs *model.Case) error {
	entries, err := prefixValues[model.CaseEntry](t.tx, bCaseEnt, []byte(cs.ID+"/"), 0, nil)
	if err != nil {
		return err
	}
	others := cs.Others(t.self())
	for _, e := range entries {
		for _, d := range others {
			if d == e.Author {
				continue
			}
			if err := t.send(c, d, model.KindCaseEntry, caseEntryBody{Case: cs.ID, Entry: e}); err != nil {
				return err
			}
		}
	}
	return nil
}

// head reads a case and up to n entries (0: all) in one view.
func (eng *Engine) CaseHead(id string, n int) (*model.Case, string, error) {
	var out *model.Case
	var last []byte
	err := eng.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bCase).Get([]byte(id))
		if v == nil {
			return errs.NotFound("id", "case %s not found", id)
		}
		out = new(model.Case)
		if err := json.Unmarshal(v, out); err != nil {
			return err
		}
		var err error
		out.Entries, last, err = PageValues[model.CaseEntry](tx, bCaseEnt, []byte(id+"/"), nil, n, nil, nil) // keyed by HLC
		return err
	})
	return out, cursorOf(last), err
}

// Entries lists a case's timeline entries in HLC order, a page at a time:
// after is the previous page's next ("" for the first), next is "" on the
// last page, and limit is 1..500 (else 100). A cursor from another case's
// entries is refused (field cursor); an unknown case is not found (field id).
func (eng *Engine) CaseEntries(id, after string, limit int) (entries []model.CaseEntry, next string, err error) {
	pre := []byte(id + "/")
	return cursorPage(eng, pre, after, func(tx *bbolt.Tx, from []byte) ([]model.CaseEntry, []byte, error) {
		if tx.Bucket(bCase).Get([]byte(id)) == nil {
			return nil, nil, errs.NotFound("id", "case %s not found", id)
		}
		return PageValues[model.CaseEntry](tx, bCaseEnt, pre, from, PageLimit(limit, 100, 500), nil, nil)
	})
}

// List returns the cases this jurisdiction takes part in, without entries,
// by id, a page at a time: after is the previous page's next ("" for the
// first), next is "" on the last page, and limit is 1..500 (else 100).
func (eng *Engine) Cases(after string, limit int) (cases []model.Case, next string, err error) {
	return valuesPage[model.Case](eng, bCase, nil, after, PageLimit(limit, 100, 500))
}

// HLC is the highest hybrid logical clock of a case entry seen here.
func (eng *Engine) HLC() (uint64, error) {
	var seen uint64
	err := eng.View(func(tx *bbolt.Tx) error {
		seen = GetU64(tx.Bucket(BucketMeta).Get(metaHLC))
		return nil
	})
	return seen, err
}
