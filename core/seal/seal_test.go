package seal

import (
	"errors"
	"strings"
	"testing"

	"github.com/fengqiao/fengqiao/core/errs"
)

func TestRoundTripBothSuites(t *testing.T) {
	for _, s := range []Suite{AES256GCM, SM4GCM} {
		key, err := GenerateKey(s, 1)
		if err != nil {
			t.Fatal(err)
		}
		k, err := NewKeyring(s, key)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := k.Seal([]byte("51010719900307123X"), "person/1/id_number")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(tok, "5101071990") {
			t.Fatalf("%s: token leaks plaintext", s)
		}
		pt, err := k.Open(tok, "person/1/id_number")
		if err != nil || string(pt) != "51010719900307123X" {
			t.Fatalf("%s: open = %q, %v", s, pt, err)
		}
		// Wrong aad (record swap) and flipped bits are both detected.
		if _, err := k.Open(tok, "person/2/id_number"); !errors.Is(err, errs.ErrTampered) {
			t.Fatalf("%s: aad swap not detected: %v", s, err)
		}
		b := []byte(tok)
		b[len(b)-3] ^= 1
		if _, err := k.Open(string(b), "person/1/id_number"); err == nil {
			t.Fatalf("%s: tampering not detected", s)
		}
		a1, a2, other := k.BlindIndex("id", "a"), k.BlindIndex("id", "a"), k.BlindIndex("id", "b")
		if a1 != a2 || a1 == other || k.BlindIndex("name", "a") == a1 {
			t.Fatalf("%s: blind index not a function of the value", s)
		}
	}
}

func TestRotation(t *testing.T) {
	old, _ := GenerateKey(AES256GCM, 1)
	k1, _ := NewKeyring(AES256GCM, old)
	tok, _ := k1.Seal([]byte("secret"), "x")
	cur, _ := GenerateKey(AES256GCM, 2)
	k2, err := NewKeyring(AES256GCM, cur, old)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := k2.Open(tok, "x"); err != nil || string(pt) != "secret" {
		t.Fatalf("old token unreadable after rotation: %v", err)
	}
	tok2, _ := k2.Seal([]byte("secret"), "x")
	if _, err := k1.Open(tok2, "x"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("old ring must not know the new key: %v", err)
	}
}

func TestBadKeys(t *testing.T) {
	if _, err := NewKeyring(AES256GCM); !errors.Is(err, errs.ErrInvalid) {
		t.Fatal("no keys must be invalid")
	}
	if _, err := NewKeyring(SM4GCM, Key{ID: 1, Enc: make([]byte, 32), Index: make([]byte, 32)}); errs.Field(err) != "keys.enc" {
		t.Fatalf("wrong SM4 key size: %v", err)
	}
	if _, err := NewKeyring("rot13", Key{ID: 1, Enc: make([]byte, 32), Index: make([]byte, 32)}); errs.Field(err) != "cipher" {
		t.Fatalf("unknown suite: %v", err)
	}
}

func TestNewRandomKeyring(t *testing.T) {
	a, err := NewRandomKeyring(SM4GCM)
	if err != nil || a.Suite() != SM4GCM {
		t.Fatalf("%v %v", a, err)
	}
	b, _ := NewRandomKeyring(SM4GCM)
	tok, _ := a.Seal([]byte("x"), "aad")
	if _, err := b.Open(tok, "aad"); err == nil {
		t.Fatal("two random keyrings share a key")
	}
	if a.BlindIndex("d", "v") == b.BlindIndex("d", "v") {
		t.Fatal("two random keyrings share a blind-index key")
	}
}

// KeyIDOf names the generation without opening the value, for both suites,
// and refuses what is not a sealed value.
func TestKeyIDOf(t *testing.T) {
	for _, s := range []Suite{AES256GCM, SM4GCM} {
		key, _ := GenerateKey(s, 7)
		k, err := NewKeyring(s, key)
		if err != nil {
			t.Fatal(err)
		}
		tok, _ := k.Seal([]byte(""), "aad")
		if g, err := KeyIDOf(tok); err != nil || g != 7 {
			t.Fatalf("%s: %d %v", s, g, err)
		}
		for _, bad := range []string{"", "!!", tok[:10], "王秀兰"} {
			if _, err := KeyIDOf(bad); !errors.Is(err, errs.ErrTampered) || errs.Field(err) != "sealed" {
				t.Errorf("%s: KeyIDOf(%q): %v", s, bad, err)
			}
		}
	}
}

// A generation with an index key of its own names itself in its blind
// indexes; lookups get every index key's digest, current first; and
// BlindGeneration reads the generation back or refuses what is not one.
func TestBlindIndexGenerations(t *testing.T) {
	for _, s := range []Suite{AES256GCM, SM4GCM} {
		old, _ := GenerateKey(s, 1)
		fresh, _ := GenerateKey(s, 2)
		fresh.OwnIndex = true
		before, _ := NewKeyring(s, old)
		k, err := NewKeyring(s, fresh, old)
		if err != nil {
			t.Fatal(err)
		}
		b := k.BlindIndex("id_number", "x")
		all := k.BlindIndexes("id_number", "x")
		if !strings.HasPrefix(b, "2:") || len(all) != 2 || all[0] != b || all[1] != before.BlindIndex("id_number", "x") || k.IndexGeneration() != 2 {
			t.Fatalf("%s: %s %v", s, b, all)
		}
		if b == "2:"+all[1] {
			t.Fatalf("%s: generation 2 indexed with the shared key", s)
		}
		for blind, want := range map[string]byte{b: 2, all[1]: 0} {
			if g, err := BlindGeneration(blind); err != nil || g != want {
				t.Errorf("%s: BlindGeneration(%s): %d %v", s, blind, g, err)
			}
		}
		for _, bad := range []string{"", "x", "0:" + all[1], "256:" + all[1], "2:" + all[1][:31], all[1] + "0", "2:" + strings.Repeat("z", 32)} {
			if _, err := BlindGeneration(bad); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "blind" {
				t.Errorf("%s: BlindGeneration(%q): %v", s, bad, err)
			}
		}
	}
}
