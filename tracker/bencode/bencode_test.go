package bencode

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func TestAppendAndDecodeRoundTrip(t *testing.T) {
	v := map[string]any{
		"interval": int64(1800),
		"peers":    "\x7f\x00\x00\x01\x1a\xe1",
		"list":     []any{int64(-3), "x", map[string]any{}},
	}
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := "d8:intervali1800e4:listli-3e1:xdee5:peers6:\x7f\x00\x00\x01\x1a\xe1e"
	if string(b) != want {
		t.Fatalf("encoded %q, want %q", b, want)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, v) {
		t.Fatalf("decoded %#v, want %#v", got, v)
	}
}

func TestAppendFailure(t *testing.T) {
	got := string(AppendFailure(nil, "unknown passkey"))
	if got != "d14:failure reason15:unknown passkeye" {
		t.Fatalf("got %q", got)
	}
}

func TestAppendUnsupported(t *testing.T) {
	if _, err := Marshal(3.5); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("float: err = %v", err)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, in := range []string{
		"", "i", "ie", "i-0e", "i03e", "i1", "5:abc", "01:a", "l", "d1:a", "d1:ai1e1:ai2ee",
		"x", "i1ei2e", "d3:keye", "99999999999999999999:a", "-1:a",
		string(bytes.Repeat([]byte("l"), MaxDepth+2)) + string(bytes.Repeat([]byte("e"), MaxDepth+2)),
	} {
		if _, err := Decode([]byte(in)); !errors.Is(err, ErrSyntax) {
			t.Errorf("Decode(%q): err = %v, want ErrSyntax", in, err)
		}
	}
}

func TestDictRawKeepsBytesAsInInput(t *testing.T) {
	// Unsorted keys inside info are kept verbatim: the info_hash is over the file's bytes.
	in := []byte("d8:announce3:url4:infod6:lengthi5e4:name1:ae1:zi0ee")
	raw, err := DictRaw(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(raw["info"]) != "d6:lengthi5e4:name1:ae" {
		t.Fatalf("info raw = %q", raw["info"])
	}
	if _, err := DictRaw([]byte("li1ee")); err == nil {
		t.Fatal("DictRaw of a list: no error")
	}
	if _, err := DictRaw([]byte("d1:ai1eeX")); err == nil {
		t.Fatal("DictRaw with trailing data: no error")
	}
}
