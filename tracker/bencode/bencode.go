// Package bencode owns the BitTorrent bencoding used by the tracker: an
// allocation-free append-style encoder for answers, a generic encoder for
// arbitrary values, and a strict decoder for .torrent files that can also
// return the raw bytes of a value as it appears in its input (the info
// dictionary, whose SHA-1 is the info_hash).
package bencode

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
)

// AppendString appends a byte string ("4:spam").
func AppendString(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

// AppendBytes appends a byte string from bytes.
func AppendBytes(b []byte, s []byte) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

// AppendInt appends an integer ("i42e").
func AppendInt(b []byte, n int64) []byte {
	b = append(b, 'i')
	b = strconv.AppendInt(b, n, 10)
	return append(b, 'e')
}

// AppendUint appends a non-negative integer.
func AppendUint(b []byte, n uint64) []byte {
	b = append(b, 'i')
	b = strconv.AppendUint(b, n, 10)
	return append(b, 'e')
}

// AppendFailure appends a complete failure answer: d14:failure reason<msg>e.
func AppendFailure(b []byte, msg string) []byte {
	b = append(b, "d14:failure reason"...)
	b = AppendString(b, msg)
	return append(b, 'e')
}

// ErrUnsupported is returned by Append for a value it cannot encode.
var ErrUnsupported = errors.New("bencode: unsupported value")

// Append encodes v: string, []byte, integers, []any, map[string]any (keys
// sorted as raw byte strings, as the specification requires), Raw.
func Append(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return AppendString(b, x), nil
	case []byte:
		return AppendBytes(b, x), nil
	case Raw:
		return append(b, x...), nil
	case int:
		return AppendInt(b, int64(x)), nil
	case int64:
		return AppendInt(b, x), nil
	case int32:
		return AppendInt(b, int64(x)), nil
	case uint32:
		return AppendUint(b, uint64(x)), nil
	case uint64:
		return AppendUint(b, x), nil
	case bool:
		if x {
			return AppendInt(b, 1), nil
		}
		return AppendInt(b, 0), nil
	case []any:
		b = append(b, 'l')
		for _, e := range x {
			var err error
			if b, err = Append(b, e); err != nil {
				return b, err
			}
		}
		return append(b, 'e'), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, 'd')
		for _, k := range keys {
			b = AppendString(b, k)
			var err error
			if b, err = Append(b, x[k]); err != nil {
				return b, err
			}
		}
		return append(b, 'e'), nil
	default:
		return b, fmt.Errorf("%w: %T", ErrUnsupported, v)
	}
}

// Marshal encodes v into a new slice.
func Marshal(v any) ([]byte, error) { return Append(nil, v) }

// Raw is an already-encoded value, copied verbatim by Append.
type Raw []byte
