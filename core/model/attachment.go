package model

import (
	"bytes"
	"encoding/hex"
	"strings"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Attachment is a file reports refer to (a photo, a scanned form): stored
// once by its SHA-256, replicated to every replica, and served only to
// callers who may read an event that refers to it.
type Attachment struct {
	ID         string    `json:"id"` // SHA-256 of the content, hex
	Media      string    `json:"media"`
	Size       int64     `json:"size"`
	Chunks     int       `json:"chunks"`
	UploadedBy string    `json:"uploaded_by"`
	UploadedAt time.Time `json:"uploaded_at"`
}

// Attachment limits.
const (
	MaxAttachment   = 10 << 20 // bytes
	AttachmentChunk = 1 << 20  // bytes per replicated chunk
)

// AttachmentMedia lists the types an attachment may have.
var AttachmentMedia = []string{"image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf"}

// attachmentRef opens a reference to an attachment in a report.
const attachmentRef = "att:"

// Ref is how a report refers to the attachment.
func (a *Attachment) Ref() string { return attachmentRef + a.ID }

// ParseAttachmentRef reads "att:<sha-256 hex>"; anything else (a URL, a
// javascript: link, a file name) is refused naming field.
func ParseAttachmentRef(field, ref string) (string, error) {
	id, ok := strings.CutPrefix(ref, attachmentRef)
	if !ok || !IsAttachmentID(id) {
		return "", errs.Invalid(field, "reference", "an attachment is referred to as att:<sha-256>, as the upload answered")
	}
	return id, nil
}

// IsAttachmentID reports whether id is a SHA-256 in lowercase hex.
func IsAttachmentID(id string) bool {
	if len(id) != 64 || strings.ToLower(id) != id {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// SniffAttachment names a file's type from its first bytes, never its name:
// JPEG, PNG, WebP, GIF or PDF, else an error naming field.
func SniffAttachment(field string, b []byte) (string, error) {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return "image/jpeg", nil
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png", nil
	case len(b) >= 12 && bytes.Equal(b[:4], []byte("RIFF")) && bytes.Equal(b[8:12], []byte("WEBP")):
		return "image/webp", nil
	case bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a")):
		return "image/gif", nil
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return "application/pdf", nil
	}
	return "", errs.Invalid(field, "type", "an attachment is a JPEG, PNG, WebP or GIF photo or a PDF, by its content")
}
