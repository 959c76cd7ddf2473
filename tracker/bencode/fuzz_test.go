package bencode

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzDecodeEncode: any input either fails to decode with ErrSyntax, or
// decodes to a value that encodes and decodes back to the same value.
func FuzzDecodeEncode(f *testing.F) {
	for _, s := range []string{
		"i0e", "i-42e", "4:spam", "le", "de", "l4:spami7ee", "d3:cow3:moo4:spam4:eggse",
		"d8:intervali1800e5:peers6:abcdefe", "d14:failure reason7:go awaye", "i-0e", "d1:bi1e1:ai2ee",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		v, err := Decode(in)
		if err != nil {
			return
		}
		enc, err := Marshal(v)
		if err != nil {
			t.Fatalf("encode of a decoded value failed: %v", err)
		}
		back, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-decode of %q: %v", enc, err)
		}
		if !reflect.DeepEqual(v, back) {
			t.Fatalf("round trip changed the value: %#v -> %#v", v, back)
		}
	})
}

// FuzzEncoder builds values from fuzz input with the append encoder and checks
// the decoder reads back exactly what was written.
func FuzzEncoder(f *testing.F) {
	f.Add("failure reason", []byte("\x00\xff"), int64(-1), uint64(1<<63))
	f.Add("", []byte{}, int64(0), uint64(0))
	f.Add("peers6", bytes.Repeat([]byte{0xfe}, 300), int64(9223372036854775807), uint64(18446744073709551615))
	f.Fuzz(func(t *testing.T, key string, val []byte, n int64, u uint64) {
		b := []byte{'d'}
		b = AppendString(b, key)
		b = append(b, 'l')
		b = AppendBytes(b, val)
		b = AppendInt(b, n)
		b = append(b, 'e')
		b = append(b, 'e')
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("decode of encoder output %q: %v", b, err)
		}
		want := map[string]any{key: []any{string(val), n}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %#v, want %#v", got, want)
		}
		ub := AppendUint(nil, u)
		if u <= 1<<63-1 {
			if got, err := Decode(ub); err != nil || got != int64(u) {
				t.Fatalf("AppendUint(%d) = %q decodes to %v, %v", u, ub, got, err)
			}
		}
		if fb := AppendFailure(nil, key); true {
			d, err := Decode(fb)
			if err != nil || d.(map[string]any)["failure reason"] != key {
				t.Fatalf("AppendFailure(%q) = %q: %v", key, fb, err)
			}
		}
	})
}
