package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// Peer is one replica of this node's Raft group.
type Peer struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	Voter   bool   `json:"voter"`
	Leader  bool   `json:"leader"`
	// DivergedAt is the checkpoint where the peer's state was found to
	// differ from the majority's (0: none known).
	DivergedAt uint64 `json:"diverged_at,omitempty"`
}

// Cluster is what the operator routes need of a node.
type Cluster interface {
	Jurisdiction() string // the county this group serves
	Self() string         // this replica's id in its group
	Peers() ([]Peer, error)
	AddPeer(id, address string, voter bool) error
	RemovePeer(id string) error
	TransferLeader(id string, force bool) error
	Backup(w io.Writer) (int64, error)
	Restore(r io.Reader, force bool) (core.BackupCheck, error)
}

func (s *Server) listPeers(w http.ResponseWriter, r *http.Request) error {
	peers, err := s.b.Peers()
	if err != nil {
		return err
	}
	// self is the replica that answered: with ?stale=true, the one asked.
	writeJSON(w, http.StatusOK, peersView{Peers: peers, Self: s.b.Self()})
	return nil
}

// addPeerRequest is the body of addPeer.
type addPeerRequest struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	Voter   bool   `json:"voter"`
}

func (s *Server) addPeer(w http.ResponseWriter, r *http.Request) error {
	var in addPeerRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.b.AddPeer(in.ID, in.Address, in.Voter); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) removePeer(w http.ResponseWriter, r *http.Request) error {
	if err := s.b.RemovePeer(r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// stateDigest answers with this replica's own digest of its logical state
// (never forwarded): replicas that applied the same commands agree.
func (s *Server) stateDigest(w http.ResponseWriter, r *http.Request) error {
	e := s.b.Store().Engine()
	applied, err := e.AppliedIndex()
	if err != nil {
		return err
	}
	d, err := e.Digest()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, digestView{Self: s.b.Self(), Applied: applied, Digest: d})
	return nil
}

// transferLeaderRequest is the body of transferLeader.
type transferLeaderRequest struct {
	ID    string `json:"id"`
	Force bool   `json:"force"` // hand over even to a voter found diverged
}

func (s *Server) transferLeader(w http.ResponseWriter, r *http.Request) error {
	var in transferLeaderRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.b.TransferLeader(in.ID, in.Force); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := limitParam(q, 1000)
	if err != nil {
		return err
	}
	after, err := strconv.ParseUint(q.Get("after"), 10, 64)
	if q.Get("after") == "" {
		after, err = 0, nil
	}
	if err != nil {
		return errs.Invalid("after", "number", "after must be a record sequence number")
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	recs, err := s.b.Store().Engine().AuditPage(after, limit)
	if err != nil {
		return err
	}
	out := auditPage{Records: make([]auditRecordView, len(recs))}
	holders := map[string]*model.Token{}
	for i, rec := range recs {
		out.Records[i].AuditRecord = rec
		var cmd struct {
			Actor string `json:"actor"`
		}
		json.Unmarshal(rec.Command, &cmd)
		id, ok := strings.CutPrefix(cmd.Actor, "token:")
		if !ok {
			continue
		}
		tk, seen := holders[id]
		if !seen {
			tk, _ = s.b.Store().Tokens.Get(id) // a tidied token names no one
			holders[id] = tk
		}
		if tk != nil {
			out.Records[i].Person, out.Records[i].StaffNo = tk.Person, tk.StaffNo
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.b.Store().Engine().VerifyAudit()
	if err != nil && !rep.OK && rep.FirstBad > 0 {
		writeJSON(w, http.StatusOK, rep) // a failed verification is a result, not a server error
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// verifyWitnessed verifies the chain and checks it against the witnesses
// in the body, as fetched from the parent's listWitnesses.

// verifyWitnessedRequest is the body of verifyWitnessed.
type verifyWitnessedRequest struct {
	Witnesses []model.Witness `json:"witnesses"`
}

func (s *Server) verifyWitnessed(w http.ResponseWriter, r *http.Request) error {
	var in verifyWitnessedRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	for i, wi := range in.Witnesses {
		if wi.Origin != s.b.Jurisdiction() {
			return errs.Invalid(fmt.Sprintf("witnesses[%d].origin", i), "origin", "a witness of %s cannot check %s's chain", wi.Origin, s.b.Jurisdiction())
		}
	}
	e := s.b.Store().Engine()
	chain, err := e.VerifyAudit()
	if err != nil && chain.FirstBad == 0 {
		return err
	}
	wit, err := e.CheckWitnesses(in.Witnesses)
	if err != nil && wit.FirstBad == 0 {
		return err
	}
	// A failed verification is a result, not a server error.
	writeJSON(w, http.StatusOK, witnessedView{Jurisdiction: s.b.Jurisdiction(), Chain: chain, Witnesses: wit, OK: chain.OK && wit.OK})
	return nil
}

// listWitnesses lists the chain heads a child sent here.
func (s *Server) listWitnesses(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	after, err := strconv.ParseUint(q.Get("after"), 10, 64)
	if q.Get("after") == "" {
		after, err = 0, nil
	}
	if err != nil {
		return errs.Invalid("after", "number", "after must be a record sequence number")
	}
	limit, err := limitParam(q, 1000)
	if err != nil {
		return err
	}
	if err := s.consistent(r); err != nil {
		return err
	}
	ws, err := s.b.Store().Federation.Witnesses(q.Get("origin"), after, limit)
	if err != nil {
		return err
	}
	if ws == nil {
		ws = []model.Witness{}
	}
	writeJSON(w, http.StatusOK, witnessesPage{Witnesses: ws})
	return nil
}

func (s *Server) backup(w http.ResponseWriter, r *http.Request) error {
	// The backup holds the record of its own taking.
	if err := s.record(r, state.AuditEvent{Kind: state.AuditBackup}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="fengqiao-`+s.b.Jurisdiction()+`.db"`)
	_, err := s.b.Backup(w)
	return err
}

func (s *Server) restore(w http.ResponseWriter, r *http.Request) error {
	var force bool
	switch v := r.URL.Query().Get("force"); v {
	case "", "false":
	case "true":
		force = true
	default:
		return errs.Invalid("force", "bool", "force must be true or false, not %q", v)
	}
	bc, err := s.b.Restore(r.Body, force)
	if err != nil {
		return err
	}
	// Recorded in the restored chain, and a chain moved back is reported to
	// the parent at once, as a witness of where it now stands.
	detail := fmt.Sprintf("chain from %d to %d records", bc.From, bc.To)
	if bc.Backwards {
		detail += "; forced backwards"
	}
	if err := s.record(r, state.AuditEvent{Kind: state.AuditRestore, Detail: detail}); err != nil {
		s.log.Error("the restore could not be audited", "err", err)
	}
	if bc.Backwards {
		if _, err := s.b.Store().Federation.SendWitness(context.WithoutCancel(r.Context())); err != nil {
			s.log.Warn("a forced restore was not reported to the parent; the next witness tick reports it", "err", errs.Field(err))
		}
	}
	writeJSON(w, http.StatusOK, bc)
	return nil
}
