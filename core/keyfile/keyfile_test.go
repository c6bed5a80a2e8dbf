package keyfile

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/seal"
)

// sealedWith is the key generation a sealed value names.
func sealedWith(t *testing.T, token string) byte {
	t.Helper()
	raw, err := base64.RawStdEncoding.DecodeString(token) // version | key id | nonce | ciphertext
	if err != nil || len(raw) < 2 {
		t.Fatalf("not a sealed value: %q %v", token, err)
	}
	return raw[1]
}

func mustKeyring(t *testing.T, path string) *seal.Keyring {
	t.Helper()
	k, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustSeal(t *testing.T, k *seal.Keyring, v string) string {
	t.Helper()
	s, err := k.Seal([]byte(v), "aad")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A rotation adds a generation, then makes it current: what any generation
// sealed stays readable, blind indexes do not move, and a replica still on
// the old file can read nothing sealed with the new generation, which is
// why the new one is added everywhere before it is used.
func TestKeyRotation(t *testing.T) {
	for _, suite := range []seal.Suite{seal.AES256GCM, seal.SM4GCM} {
		t.Run(string(suite), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.json")
			if err := WriteNew(path, suite); err != nil {
				t.Fatal(err)
			}
			gen1 := mustKeyring(t, path)
			old := mustSeal(t, gen1, "511083196001010011")
			blind := gen1.BlindIndex("id_number", "511083196001010011")

			id, err := AddKey(path)
			if err != nil || id != 2 {
				t.Fatalf("AddKey: %d %v", id, err)
			}
			added := mustKeyring(t, path)
			if got := sealedWith(t, mustSeal(t, added, "x")); got != 1 {
				t.Fatalf("after add, sealing with generation %d, want 1 until it is used", got)
			}
			if err := UseKey(path, 2); err != nil {
				t.Fatal(err)
			}
			rotated := mustKeyring(t, path)
			fresh := mustSeal(t, rotated, "511083196001010022")
			if got := sealedWith(t, fresh); got != 2 {
				t.Fatalf("after use, sealing with generation %d, want 2", got)
			}
			if got, err := rotated.Open(old, "aad"); err != nil || string(got) != "511083196001010011" {
				t.Fatalf("old value after rotation: %q %v", got, err)
			}
			if got, err := added.Open(fresh, "aad"); err != nil || string(got) != "511083196001010022" {
				t.Fatalf("a replica that has added generation 2 cannot open it: %q %v", got, err)
			}
			if _, err := gen1.Open(fresh, "aad"); err == nil {
				t.Fatal("a keyring without generation 2 opened a value sealed with it")
			}
			// Generation 2 indexes with a key of its own and says so; the old
			// index is still among those a lookup tries.
			all := rotated.BlindIndexes("id_number", "511083196001010011")
			if len(all) != 2 || all[0] != rotated.BlindIndex("id_number", "511083196001010011") || !strings.HasPrefix(all[0], "2:") || all[1] != blind {
				t.Fatalf("blind indexes after rotation: %v, old %s", all, blind)
			}
			if added.BlindIndex("id_number", "511083196001010011") != blind || rotated.IndexGeneration() != 2 || added.IndexGeneration() != 0 {
				t.Fatal("adding a generation moved the blind index before it was used")
			}
			info, err := Describe(path)
			if err != nil || info.Current != 2 || !slices.Equal(info.IDs, []byte{1, 2}) || info.Cipher != suite || !slices.Equal(info.OwnIndex, []byte{2}) {
				t.Fatalf("info: %+v %v", info, err)
			}
			if rotated.KeyID() != 2 || rotated.Generations() != 2 || added.KeyID() != 1 {
				t.Fatalf("keyrings: current %d of %d after use, %d after add", rotated.KeyID(), rotated.Generations(), added.KeyID())
			}
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
				t.Fatalf("key file mode %v after rotation", st.Mode().Perm())
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".keys.json-*")); len(left) != 0 {
				t.Fatalf("temporary files left: %v", left)
			}
		})
	}
}

// Bad input is refused with a typed error naming the field, and leaves the
// file as it was.
func TestKeyFileRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	if err := WriteNew(path, ""); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	if err := UseKey(path, 9); !errors.Is(err, errs.ErrNotFound) || errs.Field(err) != "id" {
		t.Fatalf("use of an unknown generation: %v", err)
	}
	if err := WriteNew(path, ""); err == nil {
		t.Fatal("WriteNew overwrote a key file")
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Fatal("a refused operation changed the key file")
	}
	if err := WriteNew(filepath.Join(dir, "x.json"), "des"); errs.Field(err) != "cipher" {
		t.Fatalf("unknown cipher: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.json")); !os.IsNotExist(err) {
		t.Fatal("an unknown cipher still wrote a file")
	}

	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("not json"), 0o600)
	if _, err := Read(bad); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "key_file" {
		t.Fatalf("garbage key file: %v", err)
	}
	if _, err := AddKey(bad); err == nil {
		t.Fatal("AddKey accepted a garbage file")
	}

	// The last generation id is 255: a file there takes no more.
	var kf keyFile
	json.Unmarshal(before, &kf)
	kf.Keys[0].ID, kf.Current = 255, 255
	full := filepath.Join(dir, "full.json")
	raw, _ := json.Marshal(kf)
	os.WriteFile(full, raw, 0o600)
	if _, err := AddKey(full); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "id" {
		t.Fatalf("a 256th generation: %v", err)
	}
	if after, _ := os.ReadFile(full); !bytes.Equal(after, raw) {
		t.Fatal("a refused AddKey changed the file")
	}
	// A current generation that is not in the file is refused on read.
	kf.Current = 7
	raw, _ = json.Marshal(kf)
	os.WriteFile(full, raw, 0o600)
	if _, err := Read(full); errs.Field(err) != "current" {
		t.Fatalf("current generation missing: %v", err)
	}
}

// A key file written before rotation existed (one key at the top level)
// still opens what it sealed, and rotates like any other.
func TestKeyFileBeforeRotation(t *testing.T) {
	k, err := seal.GenerateKey(seal.AES256GCM, 1)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "keys.json")
	raw, _ := json.Marshal(map[string]any{"cipher": seal.AES256GCM, "id": k.ID, "enc": k.Enc, "index": k.Index})
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	v1, err := seal.NewKeyring(seal.AES256GCM, k)
	if err != nil {
		t.Fatal(err)
	}
	old := mustSeal(t, v1, "名字")
	if id, err := AddKey(path); err != nil || id != 2 {
		t.Fatalf("AddKey on an old file: %d %v", id, err)
	}
	if err := UseKey(path, 2); err != nil {
		t.Fatal(err)
	}
	now := mustKeyring(t, path)
	if got, err := now.Open(old, "aad"); err != nil || string(got) != "名字" {
		t.Fatalf("old value: %q %v", got, err)
	}
	// Generation 1 keeps the file's shared index key: its blind indexes are
	// still found.
	if all := now.BlindIndexes("d", "v"); len(all) != 2 || all[1] != v1.BlindIndex("d", "v") {
		t.Fatalf("the blind index of generation 1 changed with the file's format: %v", all)
	}
}

// A store restarted on a rotated key file reveals people sealed before the
// rotation and after it, and finds both by ID number.
