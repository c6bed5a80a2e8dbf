// Package seal encrypts sensitive fields before they enter a command, and
// computes keyed blind indexes so an exact value can be found without storing it.
//
// Two suites are offered: AES-256-GCM with HMAC-SHA256 (default) and SM4-GCM
// with HMAC-SM3 (国密), selected per keyring. A sealed value names its suite
// and key id, so keys can be rotated while old values stay readable.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Suite names a cipher and MAC pair.
type Suite string

// The supported suites.
const (
	AES256GCM Suite = "aes-256-gcm" // AES-256-GCM, HMAC-SHA256 blind index
	SM4GCM    Suite = "sm4-gcm"     // SM4-GCM (GB/T 32907), HMAC-SM3 blind index
)

const version = 1

// Key is one generation of key material.
type Key struct {
	ID    byte   // identifies the generation inside sealed values
	Enc   []byte // 32 bytes for AES-256, 16 for SM4
	Index []byte // blind-index MAC key, at least 32 bytes
	// OwnIndex marks an index key of this generation alone; its blind
	// indexes name the generation ("2:…"). Without it the key is the one
	// shared by every generation made before index keys rotated, and its
	// indexes are bare hex, as they always were.
	OwnIndex bool
}

// Keyring seals with its newest key and opens with any it holds.
type Keyring struct {
	suite   Suite
	current Key
	aeads   map[byte]cipher.AEAD
	indexes []blindKey // current first
	rand    io.Reader
}

// blindKey is one blind-index key and the generation it names (0: shared).
// macs keeps keyed MAC states for reuse: building one hashes the key's
// pads, which cost more than the MAC of a short value (a token's secret is
// hashed on every request).
type blindKey struct {
	gen  byte
	key  []byte
	macs *sync.Pool
}

// NewKeyring builds a keyring. keys[0] is the current key; later entries are
// older generations kept for opening. Blind indexes are made with the current
// key's index key; lookups try every index key the ring holds, so a person
// indexed under an older one is still found until re-indexed.
func NewKeyring(suite Suite, keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errs.Invalid("keys", "required", "at least one key is required")
	}
	k := &Keyring{suite: suite, current: keys[0], aeads: map[byte]cipher.AEAD{}, rand: rand.Reader}
	for _, key := range keys {
		if _, dup := k.aeads[key.ID]; dup {
			return nil, errs.Invalid("keys.id", "unique", "key id %d appears twice", key.ID)
		}
		if len(key.Index) < 32 {
			return nil, errs.Invalid("keys.index", "length", "blind-index key must be at least 32 bytes")
		}
		a, err := newAEAD(suite, key.Enc)
		if err != nil {
			return nil, err
		}
		k.aeads[key.ID] = a
		bk := blindKey{key: key.Index, macs: &sync.Pool{}}
		if key.OwnIndex {
			bk.gen = key.ID
		}
		if !slices.ContainsFunc(k.indexes, func(x blindKey) bool { return x.gen == bk.gen }) {
			k.indexes = append(k.indexes, bk)
		}
	}
	return k, nil
}

func newAEAD(suite Suite, key []byte) (cipher.AEAD, error) {
	var (
		b   cipher.Block
		err error
	)
	switch suite {
	case AES256GCM:
		if len(key) != 32 {
			return nil, errs.Invalid("keys.enc", "length", "AES-256 needs a 32-byte key, got %d", len(key))
		}
		b, err = aes.NewCipher(key)
	case SM4GCM:
		if len(key) != 16 {
			return nil, errs.Invalid("keys.enc", "length", "SM4 needs a 16-byte key, got %d", len(key))
		}
		b, err = sm4.NewCipher(key)
	default:
		return nil, errs.Invalid("cipher", "enum", "unknown cipher suite %q (want %s or %s)", suite, AES256GCM, SM4GCM)
	}
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return cipher.NewGCM(b)
}

// GenerateKey makes fresh random key material for suite.
func GenerateKey(suite Suite, id byte) (Key, error) {
	n := 32
	if suite == SM4GCM {
		n = 16
	}
	k := Key{ID: id, Enc: make([]byte, n), Index: make([]byte, 32)}
	if _, err := io.ReadFull(rand.Reader, k.Enc); err != nil {
		return Key{}, err
	}
	if _, err := io.ReadFull(rand.Reader, k.Index); err != nil {
		return Key{}, err
	}
	return k, nil
}

// NewRandomKeyring makes a keyring with one fresh random key (id 1) whose
// material is never exposed: for tests and throwaway stores. Keys that must
// outlive the process come from GenerateKey and NewKeyring.
func NewRandomKeyring(suite Suite) (*Keyring, error) {
	k, err := GenerateKey(suite, 1)
	if err != nil {
		return nil, err
	}
	return NewKeyring(suite, k)
}

// KeyID is the generation new values are sealed with.
func (k *Keyring) KeyID() byte { return k.current.ID }

// Generations is how many generations the keyring can open.
func (k *Keyring) Generations() int { return len(k.aeads) }

// Suite reports the keyring's suite.
func (k *Keyring) Suite() Suite { return k.suite }

// Seal encrypts plaintext bound to aad (e.g. the record id and field name) and
// returns a printable token: base64(version|keyID|nonce|ciphertext).
func (k *Keyring) Seal(plaintext []byte, aad string) (string, error) {
	a := k.aeads[k.current.ID]
	buf := make([]byte, 2+a.NonceSize(), 2+a.NonceSize()+len(plaintext)+a.Overhead())
	buf[0], buf[1] = version, k.current.ID
	if _, err := io.ReadFull(k.rand, buf[2:]); err != nil {
		return "", fmt.Errorf("seal: nonce: %w", err)
	}
	out := a.Seal(buf, buf[2:], plaintext, []byte(aad))
	return base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts a token made by Seal with the same aad.
func (k *Keyring) Open(token, aad string) ([]byte, error) {
	raw, err := base64.RawStdEncoding.DecodeString(token)
	if err != nil || len(raw) < 2 || raw[0] != version {
		return nil, &errs.FieldError{Kind: errs.ErrTampered, Field: "sealed", Rule: "format", Msg: "not a sealed value"}
	}
	a, ok := k.aeads[raw[1]]
	if !ok {
		return nil, &errs.FieldError{Kind: errs.ErrNotFound, Field: "sealed", Rule: "key", Msg: fmt.Sprintf("no key with id %d", raw[1])}
	}
	ns := a.NonceSize()
	if len(raw) < 2+ns+a.Overhead() {
		return nil, &errs.FieldError{Kind: errs.ErrTampered, Field: "sealed", Rule: "format", Msg: "sealed value too short"}
	}
	pt, err := a.Open(nil, raw[2:2+ns], raw[2+ns:], []byte(aad))
	if err != nil {
		return nil, &errs.FieldError{Kind: errs.ErrTampered, Field: "sealed", Rule: "auth", Msg: "authentication failed"}
	}
	return pt, nil
}

// KeyIDOf is the key generation a sealed value was sealed with, without
// opening it.
func KeyIDOf(token string) (byte, error) {
	raw, err := base64.RawStdEncoding.DecodeString(token)
	if err != nil || len(raw) < 2+12+16 || raw[0] != version {
		return 0, &errs.FieldError{Kind: errs.ErrTampered, Field: "sealed", Rule: "format", Msg: "not a sealed value"}
	}
	return raw[1], nil
}

// BlindIndex returns a keyed, deterministic digest of value within domain
// (e.g. "id_number") under the current generation's index key: 32 hex
// digits, after "<generation>:" for an index key of its own. Equal values
// give equal indexes; without the key nothing about the value can be learnt
// from it.
func (k *Keyring) BlindIndex(domain, value string) string {
	return k.blind(k.indexes[0], domain, value)
}

// BlindIndexes is value's blind index under every index key the ring holds,
// the current one first: what a lookup tries while people are re-indexed.
func (k *Keyring) BlindIndexes(domain, value string) []string {
	out := make([]string, len(k.indexes))
	for i, bk := range k.indexes {
		out[i] = k.blind(bk, domain, value)
	}
	return out
}

// Has reports whether the keyring can open values sealed with generation id.
func (k *Keyring) Has(id byte) bool {
	_, ok := k.aeads[id]
	return ok
}

// HasIndex reports whether the keyring holds the index key of generation
// gen (0: the shared key).
func (k *Keyring) HasIndex(gen byte) bool {
	return slices.ContainsFunc(k.indexes, func(x blindKey) bool { return x.gen == gen })
}

// IndexGeneration is the generation whose index key new blind indexes use
// (0: the shared key of generations made before index keys rotated).
func (k *Keyring) IndexGeneration() byte { return k.indexes[0].gen }

func (k *Keyring) blind(bk blindKey, domain, value string) string {
	m, _ := bk.macs.Get().(hash.Hash)
	if m == nil {
		h := sha256.New
		if k.suite == SM4GCM {
			h = sm3.New
		}
		m = hmac.New(h, bk.key)
	}
	m.Reset()
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(value))
	var sum [sha256.Size]byte // SM3's size too
	digest := hex.EncodeToString(m.Sum(sum[:0])[:16])
	bk.macs.Put(m)
	if bk.gen == 0 {
		return digest
	}
	return strconv.Itoa(int(bk.gen)) + ":" + digest
}

// MAC returns a keyed hash (HMAC-SHA256, or HMAC-SM3 under the SM4 suite)
// under a key derived for domain from the index key of generation gen, and
// whether the ring holds that generation. Derived keys are never stored:
// the audit chain is keyed this way, so whoever lacks the key file cannot
// recompute it.
func (k *Keyring) MAC(gen byte, domain string) (hash.Hash, bool) {
	i := slices.IndexFunc(k.indexes, func(x blindKey) bool { return x.gen == gen })
	if i < 0 {
		return nil, false
	}
	h := sha256.New
	if k.suite == SM4GCM {
		h = sm3.New
	}
	d := hmac.New(h, k.indexes[i].key)
	d.Write([]byte("fengqiao derived key\x00" + domain))
	return hmac.New(h, d.Sum(nil)), true
}

// BlindGeneration is the index generation a blind index names (0: the
// shared key), or an error when it is not a blind index.
func BlindGeneration(blind string) (byte, error) {
	gen, digest, tagged := strings.Cut(blind, ":")
	if !tagged {
		gen, digest = "0", blind
	}
	n, err := strconv.ParseUint(gen, 10, 8)
	if _, herr := hex.DecodeString(digest); err != nil || herr != nil || len(digest) != 32 || (tagged && n == 0) {
		return 0, &errs.FieldError{Kind: errs.ErrInvalid, Field: "blind", Rule: "format", Msg: "not a blind index"}
	}
	return byte(n), nil
}
