package bencode

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrSyntax wraps every reason Decode rejects its input.
var ErrSyntax = errors.New("bencode: invalid input")

// MaxDepth bounds nesting so hostile input cannot exhaust the stack.
const MaxDepth = 64

// Decode parses exactly one value filling all of data. Strings decode to
// string, integers to int64, lists to []any, dictionaries to map[string]any.
// It is strict about integers (no leading zeros, no "-0") and duplicated
// keys; it accepts unsorted keys, which some .torrent writers produce.
func Decode(data []byte) (any, error) {
	d := decoder{data: data}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.pos != len(data) {
		return nil, d.errorf("trailing data after the value")
	}
	return v, nil
}

// DictRaw parses a dictionary and returns each of its keys with the raw
// encoded bytes of the value, as they appear in data (sub-slices of data).
func DictRaw(data []byte) (map[string][]byte, error) {
	d := decoder{data: data}
	if d.pos >= len(data) || data[0] != 'd' {
		return nil, d.errorf("not a dictionary")
	}
	d.pos++
	out := map[string][]byte{}
	for {
		if d.pos >= len(data) {
			return nil, d.errorf("unterminated dictionary")
		}
		if data[d.pos] == 'e' {
			d.pos++
			break
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		if _, dup := out[k]; dup {
			return nil, d.errorf("duplicated dictionary key %q", k)
		}
		start := d.pos
		if _, err := d.value(1); err != nil {
			return nil, err
		}
		out[k] = data[start:d.pos]
	}
	if d.pos != len(data) {
		return nil, d.errorf("trailing data after the dictionary")
	}
	return out, nil
}

type decoder struct {
	data []byte
	pos  int
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", ErrSyntax, d.pos, fmt.Sprintf(format, args...))
}

func (d *decoder) value(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, d.errorf("nested deeper than %d", MaxDepth)
	}
	if d.pos >= len(d.data) {
		return nil, d.errorf("unexpected end of input")
	}
	switch c := d.data[d.pos]; {
	case c == 'i':
		return d.integer()
	case c >= '0' && c <= '9':
		return d.str()
	case c == 'l':
		d.pos++
		list := []any{}
		for {
			if d.pos >= len(d.data) {
				return nil, d.errorf("unterminated list")
			}
			if d.data[d.pos] == 'e' {
				d.pos++
				return list, nil
			}
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
	case c == 'd':
		d.pos++
		dict := map[string]any{}
		for {
			if d.pos >= len(d.data) {
				return nil, d.errorf("unterminated dictionary")
			}
			if d.data[d.pos] == 'e' {
				d.pos++
				return dict, nil
			}
			k, err := d.str()
			if err != nil {
				return nil, err
			}
			if _, dup := dict[k]; dup {
				return nil, d.errorf("duplicated dictionary key %q", k)
			}
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			dict[k] = v
		}
	default:
		return nil, d.errorf("unexpected byte %q", c)
	}
}

func (d *decoder) integer() (int64, error) {
	d.pos++ // 'i'
	end := d.pos
	for end < len(d.data) && d.data[end] != 'e' {
		end++
	}
	if end >= len(d.data) {
		return 0, d.errorf("unterminated integer")
	}
	s := string(d.data[d.pos:end])
	if s == "" || s == "-" || s == "-0" || (len(s) > 1 && s[0] == '0') || (len(s) > 2 && s[0] == '-' && s[1] == '0') {
		return 0, d.errorf("malformed integer %q", s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, d.errorf("malformed integer %q", s)
	}
	d.pos = end + 1
	return n, nil
}

func (d *decoder) str() (string, error) {
	colon := d.pos
	for colon < len(d.data) && d.data[colon] != ':' {
		if d.data[colon] < '0' || d.data[colon] > '9' || colon-d.pos > 18 {
			return "", d.errorf("malformed string length")
		}
		colon++
	}
	if colon >= len(d.data) || colon == d.pos {
		return "", d.errorf("malformed string length")
	}
	if d.data[d.pos] == '0' && colon-d.pos > 1 {
		return "", d.errorf("string length with leading zero")
	}
	n, err := strconv.Atoi(string(d.data[d.pos:colon]))
	if err != nil || n < 0 || n > len(d.data)-colon-1 {
		return "", d.errorf("string length %s exceeds the input", d.data[d.pos:colon])
	}
	s := string(d.data[colon+1 : colon+1+n])
	d.pos = colon + 1 + n
	return s, nil
}
