package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// Upload stores a file for reports to refer to (its Ref). The type comes
// from the content, never a name; the file is replicated in chunks, and a
// last command checks them against the file's SHA-256 before any report
// may name it. The same file uploaded again is the same attachment.
func (ev *Events) Upload(ctx context.Context, data []byte) (*model.Attachment, error) {
	if len(data) == 0 || len(data) > model.MaxAttachment {
		return nil, errs.Invalid("body", "size", "an attachment holds 1..%d bytes (10 MiB)", model.MaxAttachment)
	}
	media, err := model.SniffAttachment("body", data)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	id := hex.EncodeToString(sum[:])
	if a, err := ev.s.engine.Attachment(id); err == nil {
		return a, nil
	}
	ctx = withoutKey(ctx) // several commands: none may share an id
	var cmds []*state.Command
	for n := 0; n*model.AttachmentChunk < len(data); n++ {
		chunk := data[n*model.AttachmentChunk : min(len(data), (n+1)*model.AttachmentChunk)]
		c, err := ev.s.command(ctx, "attachment.chunk", "", state.AttachmentChunkPayload{ID: id, N: n, Data: chunk})
		if err != nil {
			return nil, err
		}
		cmds = append(cmds, c)
	}
	commit, err := ev.s.command(ctx, "attachment.commit", "", model.Attachment{ID: id, Media: media, Size: int64(len(data)), Chunks: len(cmds)})
	if err != nil {
		return nil, err
	}
	res, err := ev.s.applyCommands(ctx, append(cmds, commit))
	if err != nil {
		return nil, err
	}
	for _, r := range res {
		if r.Err != nil {
			return nil, r.Err
		}
	}
	return res[len(res)-1].Value.(*model.Attachment), nil
}

// Attachment returns an attachment's record.
func (ev *Events) Attachment(id string) (*model.Attachment, error) { return ev.s.engine.Attachment(id) }

// WriteAttachment writes an attachment's content to w.
func (ev *Events) WriteAttachment(id string, w io.Writer) error {
	return ev.s.engine.WriteAttachment(id, w)
}
