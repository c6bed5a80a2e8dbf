package core

import (
	"bytes"
	"errors"
	"math/rand"
	"testing"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// photo is a JPEG's magic and n bytes of noise.
func photo(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, b...)
}

func TestAttachmentsAreCheckedReplicatedAndReferred(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	big := photo(2*model.AttachmentChunk+12345, 1) // three chunks
	a, err := e.Events.Upload(e.ctx, big)
	if err != nil {
		t.Fatal(err)
	}
	if a.Media != "image/jpeg" || a.Chunks != 3 || a.Size != int64(len(big)) || len(a.ID) != 64 {
		t.Fatalf("uploaded %+v", a)
	}
	again, err := e.Events.Upload(e.ctx, big)
	if err != nil || again.ID != a.ID {
		t.Fatalf("the same file again: %+v %v", again, err)
	}
	var out bytes.Buffer
	if err := e.Events.WriteAttachment(a.ID, &out); err != nil || !bytes.Equal(out.Bytes(), big) {
		t.Fatalf("read back %d bytes, %v", out.Len(), err)
	}
	// By content, not name: an executable, HTML, an empty or oversized body.
	for _, bad := range [][]byte{[]byte("MZ\x90\x00"), []byte("<html><script>alert(1)</script>"), nil, photo(model.MaxAttachment, 2)} {
		refusedUnchanged(t, e, "bad upload", errs.ErrInvalid, "body", func() error {
			_, err := e.Events.Upload(e.ctx, bad)
			return err
		})
	}
	// A report names uploaded attachments by ref, and nothing else.
	ev, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "附件", Grid: villageA + "001", Attachments: []string{a.Ref()}})
	if err != nil || len(ev.Attachments) != 1 {
		t.Fatalf("report with an attachment: %+v %v", ev, err)
	}
	for _, ref := range []string{"javascript:alert(1)", "https://example.com/x.jpg", "photo.jpg", "att:" + a.ID[:63]} {
		refusedUnchanged(t, e, ref, errs.ErrInvalid, "attachments[0]", func() error {
			_, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "x", Grid: villageA + "001", Attachments: []string{ref}})
			return err
		})
	}
	missing := "att:" + string(bytes.Repeat([]byte("0"), 64))
	refusedUnchanged(t, e, "never uploaded", errs.ErrNotFound, "attachments[0]", func() error {
		_, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "x", Grid: villageA + "001", Attachments: []string{missing}})
		return err
	})
	// Every replica holds the file: the commands replayed elsewhere give
	// the same state.
	b, _ := replayBatched(t, e.rec.data, 3)
	if mustDigest(t, e.Engine()) != mustDigest(t, b) {
		t.Fatal("a replica fed the same commands holds another state")
	}
	var copyOut bytes.Buffer
	if err := b.WriteAttachment(a.ID, &copyOut); err != nil || !bytes.Equal(copyOut.Bytes(), big) {
		t.Fatalf("the replica's copy: %d bytes, %v", copyOut.Len(), err)
	}
}

func FuzzUpload(f *testing.F) {
	f.Add([]byte{0xFF, 0xD8, 0xFF, 1})
	f.Add([]byte("%PDF-1.7"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	f.Add([]byte("GIF89a"))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		media, err := model.SniffAttachment("body", data)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "body" {
				t.Fatalf("untyped refusal: %v", err)
			}
			return
		}
		if !bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}) && !bytes.HasPrefix(data, []byte("%PDF-")) && !bytes.HasPrefix(data, []byte("RIFF")) &&
			!bytes.HasPrefix(data, []byte("GIF8")) && !bytes.HasPrefix(data, []byte("\x89PNG")) {
			t.Fatalf("%q taken as %s", data[:min(8, len(data))], media)
		}
	})
}
