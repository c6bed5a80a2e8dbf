// Package keyfile reads and writes the key file: generations of sealing
// keys and blind-index keys, the current one, rotation (AddKey, UseKey) and
// retirement (RemoveKey). Keep the file apart from the data it protects.
package keyfile

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/internal/atomicfile"
	"github.com/fengqiao/fengqiao/core/seal"
)

// A key file holds generations of sealing keys. New values are sealed, and
// new blind indexes made, with the current generation; every generation in
// the file can open what it sealed. Generations added by AddKey carry a
// blind-index key of their own; older ones share Index.
type keyFile struct {
	Cipher  seal.Suite `json:"cipher"`
	Current byte       `json:"current,omitempty"`
	Keys    []keyGen   `json:"keys,omitempty"`
	Index   []byte     `json:"index,omitempty"` // shared by generations without their own
	// A file written before rotation existed holds its one key here.
	ID  byte   `json:"id,omitempty"`
	Enc []byte `json:"enc,omitempty"`
}

type keyGen struct {
	ID    byte   `json:"id"`
	Enc   []byte `json:"enc"`
	Index []byte `json:"index,omitempty"` // this generation's own blind-index key
}

// KeyInfo describes a key file without its key material.
type Info struct {
	Cipher  seal.Suite `json:"cipher"`
	Current byte       `json:"current"` // the generation new values are sealed with
	IDs     []byte     `json:"ids"`     // every generation, oldest first
	// OwnIndex lists the generations with an ID-number index key of their
	// own; the others share the file's older key.
	OwnIndex []byte `json:"own_index,omitempty"`
}

// LoadOrCreateKeyFile reads a key file, or writes a fresh one (mode 0600)
// when none exists: for development and single-node embedding. Keep real keys
// apart from the data and backups they protect.
func LoadOrCreate(path string, suite seal.Suite) (*seal.Keyring, error) {
	if _, err := os.Stat(path); os.IsNotExist(err) {
		if err := WriteNew(path, suite); err != nil {
			return nil, err
		}
	}
	return Read(path)
}

// WriteNewKeyFile writes fresh key material to path (mode 0600). It refuses
// to overwrite an existing file: losing a key loses the data it sealed.
func WriteNew(path string, suite seal.Suite) error {
	if suite == "" {
		suite = seal.AES256GCM
	}
	k, err := seal.GenerateKey(suite, 1)
	if err != nil {
		return err
	}
	kf := &keyFile{Cipher: suite, Current: k.ID, Keys: []keyGen{{ID: k.ID, Enc: k.Enc}}, Index: k.Index}
	if _, err := kf.keyring(); err != nil {
		return err // an unknown suite: write nothing
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("core: key file: %w", err)
	}
	raw, _ := json.Marshal(kf)
	if _, err := f.Write(raw); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadKeyFile loads the keyring a key file holds.
func Read(path string) (*seal.Keyring, error) {
	_, kr, err := readKeyFile(path)
	return kr, err
}

// KeyFileInfo lists a key file's generations, never its key material.
func Describe(path string) (Info, error) {
	kf, _, err := readKeyFile(path)
	if err != nil {
		return Info{}, err
	}
	info := Info{Cipher: kf.Cipher, Current: kf.Current}
	for _, g := range kf.Keys {
		info.IDs = append(info.IDs, g.ID)
		if len(g.Index) > 0 {
			info.OwnIndex = append(info.OwnIndex, g.ID)
		}
	}
	return info, nil
}

// AddKey adds a fresh generation, with a sealing key and a blind-index key
// of its own, to the key file at path and returns its id. The new
// generation is not yet current: copy the file to every replica first, so
// each can open and find what any other seals and indexes with it, then
// make it current with UseKey.
func AddKey(path string) (byte, error) {
	kf, _, err := readKeyFile(path)
	if err != nil {
		return 0, err
	}
	last := kf.Keys[len(kf.Keys)-1].ID
	if last == 255 {
		return 0, errs.Invalid("id", "range", "key file %s already holds generation 255, the last", path)
	}
	k, err := seal.GenerateKey(kf.Cipher, last+1)
	if err != nil {
		return 0, err
	}
	kf.Keys = append(kf.Keys, keyGen{ID: k.ID, Enc: k.Enc, Index: k.Index})
	return k.ID, kf.replace(path)
}

// UseKey makes generation id current in the key file at path: values sealed
// from then on use it.
func UseKey(path string, id byte) error {
	kf, _, err := readKeyFile(path)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(kf.Keys, func(g keyGen) bool { return g.ID == id }) {
		return errs.NotFound("id", "key file %s holds no generation %d", path, id)
	}
	kf.Current = id
	return kf.replace(path)
}

// RemoveKey drops generation id from the key file at path, for good: values
// still sealed with it can no longer be opened, nor people indexed with its
// index key found. The shared index key goes with the last generation
// that uses it. Remove a generation only when
// every replica's census shows it unused (Store.SealedCensus, after Reseal),
// and remove it from every replica's file. The current generation is refused.
func RemoveKey(path string, id byte) error {
	kf, _, err := readKeyFile(path)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(kf.Keys, func(g keyGen) bool { return g.ID == id })
	switch {
	case i < 0:
		return errs.NotFound("id", "key file %s holds no generation %d", path, id)
	case id == kf.Current:
		return errs.Conflict("id", "current", "generation %d is current in %s; make another current first", id, path)
	}
	kf.Keys = slices.Delete(kf.Keys, i, i+1)
	if !slices.ContainsFunc(kf.Keys, func(g keyGen) bool { return len(g.Index) == 0 }) {
		kf.Index = nil // no generation left uses the shared index key
	}
	return kf.replace(path)
}

// ParseKeyFile builds the keyring held by raw, the contents of the key
// file at path (named in errors), for a caller that has read the file
// itself and must know which contents the keyring came from.
func Parse(path string, raw []byte) (*seal.Keyring, error) {
	_, kr, err := parseKeyFile(path, raw)
	return kr, err
}

// readKeyFile reads and checks a key file, returning its keyring too.
func readKeyFile(path string) (*keyFile, *seal.Keyring, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("core: read key file: %w", err)
	}
	return parseKeyFile(path, raw)
}

func parseKeyFile(path string, raw []byte) (*keyFile, *seal.Keyring, error) {
	var kf keyFile
	if err := json.Unmarshal(raw, &kf); err != nil {
		return nil, nil, fmt.Errorf("core: key file %s: %w", path, errs.Invalid("key_file", "format", "not a key file: %v", err))
	}
	if len(kf.Keys) == 0 && len(kf.Enc) > 0 { // written before rotation
		kf.Keys, kf.Current, kf.ID, kf.Enc = []keyGen{{ID: kf.ID, Enc: kf.Enc}}, kf.ID, 0, nil
	}
	kr, err := kf.keyring()
	if err != nil {
		return nil, nil, fmt.Errorf("core: key file %s: %w", path, err)
	}
	return &kf, kr, nil
}

// keyring checks the file and builds its keyring, current generation first.
func (kf *keyFile) keyring() (*seal.Keyring, error) {
	if len(kf.Keys) == 0 {
		return nil, errs.Invalid("keys", "required", "the key file holds no keys")
	}
	var keys []seal.Key
	for i, g := range kf.Keys {
		if i > 0 && g.ID <= kf.Keys[i-1].ID {
			return nil, errs.Invalid("keys.id", "order", "generations must be listed oldest first with rising ids")
		}
		k := seal.Key{ID: g.ID, Enc: g.Enc, Index: kf.Index}
		if len(g.Index) > 0 {
			k.Index, k.OwnIndex = g.Index, true
		}
		if g.ID == kf.Current {
			keys = append([]seal.Key{k}, keys...)
		} else {
			keys = append(keys, k)
		}
	}
	if keys[0].ID != kf.Current {
		return nil, errs.NotFound("current", "the current generation %d is not in the file", kf.Current)
	}
	return seal.NewKeyring(kf.Cipher, keys...)
}

// replace writes the checked file durably in place of the old one.
func (kf *keyFile) replace(path string) error {
	if _, err := kf.keyring(); err != nil {
		return err
	}
	raw, _ := json.Marshal(kf)
	if err := atomicfile.Replace(path, raw); err != nil {
		return fmt.Errorf("core: key file %s: %w", path, err)
	}
	return nil
}
