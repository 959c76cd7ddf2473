package hashids

import (
	"slices"
	"testing"
)

// Vectors from the Python hashids 1.3.1 package (same algorithm as the PHP
// hashids/hashids NexusPHP uses): Hashids(salt=SALT).encode(N).
func TestVectors(t *testing.T) {
	for _, v := range []struct {
		salt string
		n    []int64
		hash string
	}{
		{"abc", []int64{20210603}, "n7PeZG"},
		{"abc", []int64{20261203}, "n7PM5G"},
		{"abc", []int64{0}, "oj"},
		{"abc", []int64{1}, "lm"},
		{"abc", []int64{123456789012}, "KwD7nWqj"},
		{"abc", []int64{1, 2, 3}, "G7CYSG"},
		{"Str0ngRand0mStr1", []int64{20210603}, "qAnPrd"},
		{"Str0ngRand0mStr1", []int64{20261203}, "qAnL5d"},
		{"Str0ngRand0mStr1", []int64{123456789012}, "glo85Xva"},
		{"x", []int64{20261203}, "xWGqaP"},
		{"x", []int64{0}, "KP"},
	} {
		h := New(v.salt)
		got, err := h.Encode(v.n...)
		if err != nil || got != v.hash {
			t.Errorf("New(%q).Encode(%v) = %q, %v; want %q", v.salt, v.n, got, err, v.hash)
		}
		if back := h.Decode(v.hash); !slices.Equal(back, v.n) {
			t.Errorf("New(%q).Decode(%q) = %v, want %v", v.salt, v.hash, back, v.n)
		}
	}
}

// A hash of another salt, a changed character, characters outside the
// alphabet and the empty string decode to nothing.
func TestDecodeRefuses(t *testing.T) {
	h := New("abc")
	for _, bad := range []string{"qAnL5d", "n7PM5H", "n7P-5G", "", "n", "zzzzzzzzzzzzzzzzzzzzzzzz"} {
		if got := h.Decode(bad); got != nil {
			t.Errorf("Decode(%q) = %v, want nil", bad, got)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("abc", "n7PM5G")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, salt, hash string) {
		h := New(salt)
		if ns := h.Decode(hash); ns != nil {
			if again, err := h.Encode(ns...); err != nil || again != hash {
				t.Fatalf("Decode(%q) = %v, which encodes to %q", hash, ns, again)
			}
		}
	})
}
