package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"strings"

	"github.com/fengqiao/fengqiao/core/errs"
	"go.etcd.io/bbolt"
)

// AuditRecord is one link of the audit chain: the applied command itself
// (which carries only ciphertext for sensitive fields) and the hash that ties
// it to the record before.
type AuditRecord struct {
	Seq   uint64 `json:"seq"`
	Index uint64 `json:"index"` // log position the command was applied at
	Prev  string `json:"prev"`
	Hash  string `json:"hash"`
	// Keyed records' hashes are MACs under the chain key of index key
	// generation KeyGen (chainkey.go); the first records of a chain made
	// before keying are bare SHA-256.
	Keyed   bool            `json:"keyed,omitempty"`
	KeyGen  byte            `json:"key_gen,omitempty"`
	Command json.RawMessage `json:"cmd"`
}

// ChainHash is the hash (a MAC under the chain key, when keyed) linking an audit record to the one before.
func ChainHash(h hash.Hash, prev []byte, seq, index uint64, cmd []byte) []byte {
	if h == nil {
		h = sha256.New()
	}
	h.Reset()
	h.Write(prev)
	h.Write(U64(seq))
	h.Write(U64(index))
	h.Write(cmd)
	return h.Sum(nil)
}

// The stored form is binary (the command is already JSON, and re-encoding it
// inside a JSON record cost more than the rest of the append):
// seq(8) index(8) prev(32) hash(32) command. A keyed record is prefixed
// with keyedMagic and its key generation; an unkeyed one starts with the
// sequence's high byte, which is 0 for any chain shorter than 2^56.
const (
	auditHeader = 8 + 8 + 32 + 32
	keyedMagic  = 0xA1
)

// EncodeAudit is the stored form of an audit record.
func EncodeAudit(keyed bool, gen byte, seq, index uint64, prev, hash, cmd []byte) []byte {
	off := 0
	if keyed {
		off = 2
	}
	b := make([]byte, off+auditHeader+len(cmd))
	if keyed {
		b[0], b[1] = keyedMagic, gen
	}
	copy(b[off:], U64(seq))
	copy(b[off+8:], U64(index))
	copy(b[off+16:], prev)
	copy(b[off+48:], hash)
	copy(b[off+80:], cmd)
	return b
}

// DecodeAudit reads a stored audit record.
func DecodeAudit(v []byte) (AuditRecord, error) {
	var r AuditRecord
	if len(v) > 0 && v[0] == keyedMagic {
		if len(v) < 2 {
			return r, fmt.Errorf("record is %d bytes, shorter than its header", len(v))
		}
		r.Keyed, r.KeyGen, v = true, v[1], v[2:]
	}
	if len(v) < auditHeader {
		return AuditRecord{}, fmt.Errorf("record is %d bytes, shorter than its header", len(v))
	}
	r.Seq, r.Index, r.Prev = GetU64(v[:8]), GetU64(v[8:16]), hex.EncodeToString(v[16:48])
	r.Hash, r.Command = hex.EncodeToString(v[48:80]), append(json.RawMessage(nil), v[80:]...)
	return r, nil
}

// commandJSON renders a stored command for readers (the hash covers the
// stored bytes, so VerifyAudit works on those): JSON commands as they
// are, binary envelopes decoded and re-encoded. A record whose command no
// longer decodes (say, its type was retired) is shown as a JSON string of
// its bytes rather than hidden: the chain hashes cover them all the same.
func commandJSON(raw []byte) (json.RawMessage, error) {
	c, err := DecodeCommand(raw)
	if err == nil {
		c.Payload, err = c.payloadJSON()
	}
	if err == nil {
		c.Payload, err = redact(c.Type, c.Payload)
	}
	if err != nil {
		if len(raw) > 0 && raw[0] != CommandMagic {
			return append(json.RawMessage(nil), raw...), nil
		}
		return json.Marshal(raw)
	}
	return json.Marshal(c)
}

// redactedFields are what readers of the audit never see of token
// commands: hashes of secrets and sealed TOTP secrets. The chain covers the
// stored bytes all the same.
var redactedFields = map[string]bool{"hash": true, "totp_sealed": true, "from": true, "to": true, "replica_secret": true}

// redact blanks the redacted fields of a token command's payload, at any
// depth; other commands' payloads are returned as they are.
func redact(typ string, payload json.RawMessage) (json.RawMessage, error) {
	if typ == "attachment.chunk" {
		// A megabyte of file is no reading: its size stands for it.
		var p map[string]any
		if err := json.Unmarshal(payload, &p); err != nil {
			return nil, err
		}
		if d, ok := p["data"].(string); ok {
			p["data"] = fmt.Sprintf("[%d bytes]", base64.StdEncoding.DecodedLen(len(d)))
		}
		return json.Marshal(p)
	}
	if !strings.HasPrefix(typ, "token.") {
		return payload, nil
	}
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		return nil, err
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, sub := range x {
				if redactedFields[k] {
					x[k] = "[redacted]"
				} else {
					walk(sub)
				}
			}
		case []any:
			for _, sub := range x {
				walk(sub)
			}
		}
	}
	walk(v)
	return json.Marshal(v)
}

// auditHead returns the chain's length and head as this transaction left
// them, reading them from meta the first time.
func (t *txn) auditHead() (uint64, []byte) {
	if !t.headRead {
		if h := t.b(BucketMeta).Get(AuditHeadKey); len(h) == 40 {
			t.auditSeq = GetU64(h[:8])
			t.auditTop = append([]byte(nil), h[8:]...)
		} else {
			t.auditTop = make([]byte, 32)
		}
		t.headRead = true
	}
	return t.auditSeq, t.auditTop
}

func (t *txn) appendAudit(en Entry) error {
	t.auditHead()
	keyed, gen, mac, err := t.chainKey()
	if err != nil {
		return err
	}
	seq := t.auditSeq + 1
	hash := ChainHash(mac, t.auditTop, seq, en.Index, en.Data)
	if err := t.b(BucketAudit).Put(U64(seq), EncodeAudit(keyed, gen, seq, en.Index, t.auditTop, hash, en.Data)); err != nil {
		return err
	}
	t.auditSeq, t.auditTop = seq, hash
	return nil // the head is written once, at flush
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	Records uint64 `json:"records"`
	Head    string `json:"head"`
	OK      bool   `json:"ok"`
	// FirstBad is the sequence of the first record that fails, 0 when none.
	FirstBad uint64 `json:"first_bad,omitempty"`
	Problem  string `json:"problem,omitempty"`
	// Keyed counts the records whose hashes are keyed MACs.
	Keyed uint64 `json:"keyed"`
}

// VerifyAudit walks the chain and recomputes every hash, keyed records'
// under the chain keys of the engine's key file (SetAuditKeys). It detects
// an altered record (hash mismatch), a removed one (sequence gap or broken
// link), a reordered one (link mismatch) and a truncated tail (head
// mismatch); keyed records cannot be forged without the key file. A failure
// returns the report and an error wrapping errs.ErrTampered.
func (e *Engine) VerifyAudit() (VerifyReport, error) {
	var rep VerifyReport
	kr := e.auditKeys.Load()
	err := e.View(func(tx *bbolt.Tx) error {
		prev := make([]byte, 32)
		var want uint64 = 1
		fail := func(seq uint64, format string, args ...any) error {
			rep.FirstBad, rep.Problem = seq, fmt.Sprintf(format, args...)
			return errStop
		}
		keyedFrom := uint64(0) // once keyed, a chain never goes back
		macs := map[byte]hash.Hash{}
		err := tx.Bucket(BucketAudit).ForEach(func(k, v []byte) error {
			seq := GetU64(k)
			if seq != want {
				return fail(want, "record %d missing (next present is %d)", want, seq)
			}
			r, err := DecodeAudit(v)
			if err != nil {
				return fail(seq, "record %d unreadable: %v", seq, err)
			}
			if r.Seq != seq {
				return fail(seq, "record at %d claims sequence %d (moved)", seq, r.Seq)
			}
			if r.Prev != hex.EncodeToString(prev) {
				return fail(seq, "record %d does not link to the one before it", seq)
			}
			var mac hash.Hash
			switch {
			case r.Keyed:
				if keyedFrom == 0 {
					keyedFrom = seq
				}
				if mac = macs[r.KeyGen]; mac == nil {
					var ok bool
					if kr != nil {
						mac, ok = kr.MAC(r.KeyGen, ChainDomain)
					}
					if !ok {
						return fail(seq, "record %d is keyed with index key generation %d, which this key file lacks", seq, r.KeyGen)
					}
					macs[r.KeyGen] = mac
				}
				rep.Keyed++
			case keyedFrom > 0:
				return fail(seq, "record %d is unkeyed after the chain was keyed at %d (forged)", seq, keyedFrom)
			}
			h := ChainHash(mac, prev, seq, r.Index, r.Command)
			if hex.EncodeToString(h) != r.Hash {
				return fail(seq, "record %d was altered (hash mismatch)", seq)
			}
			prev, want = h, want+1
			rep.Records = seq
			return nil
		})
		if err != nil {
			return err
		}
		head := tx.Bucket(BucketMeta).Get(AuditHeadKey)
		if rep.Records > 0 || head != nil {
			if len(head) != 40 || GetU64(head[:8]) != rep.Records || !bytes.Equal(head[8:], prev) {
				return fail(rep.Records+1, "chain ends at %d but the head says otherwise (records removed from the end)", rep.Records)
			}
		}
		rep.Head = hex.EncodeToString(prev)
		return nil
	})
	if err == errStop {
		return rep, fmt.Errorf("audit: %s: %w", rep.Problem, errs.ErrTampered)
	}
	if err != nil {
		return rep, err
	}
	rep.OK = true
	return rep, nil
}

// AuditPage lists audit records after seq (exclusive), at most limit, each
// command rendered as JSON.
func (e *Engine) AuditPage(after uint64, limit int) ([]AuditRecord, error) {
	out, err := e.auditRecords(after, limit)
	for i := range out {
		if err != nil {
			break
		}
		out[i].Command, err = commandJSON(out[i].Command)
	}
	return out, err
}

// auditRecords is AuditPage with each command as stored (what the hashes
// cover and what replay applies).
func (e *Engine) auditRecords(after uint64, limit int) ([]AuditRecord, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var out []AuditRecord
	err := e.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(BucketAudit).Cursor()
		for k, v := c.Seek(U64(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			r, err := DecodeAudit(v)
			if err != nil {
				return fmt.Errorf("core: audit record %d: %w", GetU64(k), err)
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}
