package state

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"slices"
	"strconv"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"go.etcd.io/bbolt"
)

// AttachmentChunkPayload is the payload of attachment.chunk: one piece of
// a file, replicated like any command (a whole file would pass the
// command size limit).
type AttachmentChunkPayload struct {
	ID   string `json:"id"`
	N    int    `json:"n"`
	Data []byte `json:"data"`
}

func blobKey(id string, n int) []byte { return append([]byte(id+"/"), U64(uint64(n))[4:]...) }

func applyAttachmentChunk(t *txn, c *Command, p *AttachmentChunkPayload) (any, error) {
	switch {
	case !model.IsAttachmentID(p.ID):
		return nil, errs.Invalid("id", "format", "an attachment id is a SHA-256 in hex")
	case p.N < 0 || p.N >= model.MaxAttachment/model.AttachmentChunk:
		return nil, errs.Invalid("n", "range", "chunk %d is out of range", p.N)
	case len(p.Data) == 0 || len(p.Data) > model.AttachmentChunk:
		return nil, errs.Invalid("data", "size", "a chunk holds 1..%d bytes", model.AttachmentChunk)
	}
	if t.b(bAttachment).Get([]byte(p.ID)) != nil {
		return nil, nil // stored already: an upload of the same file
	}
	return nil, t.b(bBlob).Put(blobKey(p.ID, p.N), p.Data)
}

// applyAttachmentCommit checks that the chunks make the file its id names,
// and records it. Until then no report can refer to it.
func applyAttachmentCommit(t *txn, c *Command, a *model.Attachment) (any, error) {
	if !model.IsAttachmentID(a.ID) {
		return nil, errs.Invalid("id", "format", "an attachment id is a SHA-256 in hex")
	}
	var old model.Attachment
	if ok, err := t.getRecord(bAttachment, []byte(a.ID), &old); err != nil || ok {
		return &old, err
	}
	if !slices.Contains(model.AttachmentMedia, a.Media) {
		return nil, errs.Invalid("media", "enum", "media must be one of %v", model.AttachmentMedia)
	}
	if a.Size <= 0 || a.Size > model.MaxAttachment || a.Chunks != int((a.Size+model.AttachmentChunk-1)/model.AttachmentChunk) {
		return nil, errs.Invalid("size", "range", "an attachment holds 1..%d bytes in whole chunks", model.MaxAttachment)
	}
	h := sha256.New()
	var size int64
	for n := range a.Chunks {
		b := t.b(bBlob).Get(blobKey(a.ID, n))
		if b == nil {
			return nil, errs.Conflict("chunks", "missing", "chunk %d of %s has not arrived", n, a.ID)
		}
		h.Write(b)
		size += int64(len(b))
	}
	if size != a.Size || hex.EncodeToString(h.Sum(nil)) != a.ID {
		return nil, errs.Invalid("id", "digest", "the chunks do not make the file %s", a.ID)
	}
	a.UploadedBy, a.UploadedAt = c.Actor, c.At
	return a, t.putRecord(bAttachment, []byte(a.ID), a)
}

// Attachment returns a committed attachment's record.
func (eng *Engine) Attachment(id string) (*model.Attachment, error) {
	var a model.Attachment
	err := eng.View(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bAttachment).Get([]byte(id))
		if raw == nil {
			return errs.NotFound("attachment", "attachment %s not found", id)
		}
		return decodeRecord(raw, &a)
	})
	return &a, err
}

// WriteAttachment writes a committed attachment's content to w, a chunk
// at a time from one read transaction.
func (eng *Engine) WriteAttachment(id string, w io.Writer) error {
	return eng.View(func(tx *bbolt.Tx) error {
		var a model.Attachment
		raw := tx.Bucket(bAttachment).Get([]byte(id))
		if raw == nil {
			return errs.NotFound("attachment", "attachment %s not found", id)
		}
		if err := decodeRecord(raw, &a); err != nil {
			return err
		}
		for n := range a.Chunks {
			if _, err := w.Write(tx.Bucket(bBlob).Get(blobKey(id, n))); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkAttachments refuses, from LevelDaily on, a report referring to
// anything but committed attachments.
func (t *txn) checkAttachments(c *Command, refs []string) error {
	if c.Level < LevelDaily {
		return nil
	}
	for i, ref := range refs {
		field := "attachments[" + strconv.Itoa(i) + "]"
		id, err := model.ParseAttachmentRef(field, ref)
		if err != nil {
			return err
		}
		if t.b(bAttachment).Get([]byte(id)) == nil {
			return errs.NotFound(field, "attachment %s not found", id)
		}
	}
	return nil
}
