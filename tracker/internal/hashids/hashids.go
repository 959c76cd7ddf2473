// Package hashids decodes Hashids (hashids.org) with the default alphabet
// and no minimum length, as NexusPHP's tracker report authkeys carry them:
// the hash part of "TORRENT|USER|HASH" is Hashids(secret).encode(date).
// Only what checking such a hash needs is here: New, Encode and Decode.
package hashids

import (
	"bytes"
	"errors"
	"strings"
)

const (
	defaultAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ1234567890"
	defaultSeps     = "cfhistuCFHISTU"
	sepDiv          = 3.5
	guardDiv        = 12
)

// Hashids holds the alphabets derived from one salt. Safe for concurrent
// use (nothing is changed after New).
type Hashids struct {
	salt     []byte
	alphabet []byte
	seps     []byte
	guards   []byte
}

// New derives the alphabets of salt.
func New(salt string) *Hashids {
	h := &Hashids{salt: []byte(salt)}
	var alphabet []byte
	for i := 0; i < len(defaultAlphabet); i++ {
		if c := defaultAlphabet[i]; strings.IndexByte(defaultSeps, c) < 0 {
			alphabet = append(alphabet, c)
		}
	}
	seps := []byte(defaultSeps)
	shuffle(seps, h.salt)
	if n := ceilDiv(float64(len(alphabet)), sepDiv); len(seps) < n {
		// Not reached with the default alphabets; kept for the rule's sake.
		if n == 1 {
			n = 2
		}
		diff := n - len(seps)
		seps = append(seps, alphabet[:diff]...)
		alphabet = alphabet[diff:]
	}
	shuffle(alphabet, h.salt)
	g := ceilDiv(float64(len(alphabet)), guardDiv)
	h.guards, h.alphabet, h.seps = append([]byte(nil), alphabet[:g]...), alphabet[g:], seps
	return h
}

func ceilDiv(a, b float64) int {
	n := int(a / b)
	if float64(n)*b < a {
		n++
	}
	return n
}

// shuffle is Hashids' consistent shuffle of alphabet by salt, in place.
func shuffle(alphabet, salt []byte) {
	if len(salt) == 0 {
		return
	}
	for i, v, p := len(alphabet)-1, 0, 0; i > 0; i, v = i-1, v+1 {
		v %= len(salt)
		n := int(salt[v])
		p += n
		j := (n + v + p) % i
		alphabet[i], alphabet[j] = alphabet[j], alphabet[i]
	}
}

// Encode returns the hash of numbers (none negative).
func (h *Hashids) Encode(numbers ...int64) (string, error) {
	if len(numbers) == 0 {
		return "", errors.New("hashids: nothing to encode")
	}
	var sum int64
	for i, n := range numbers {
		if n < 0 {
			return "", errors.New("hashids: negative number")
		}
		sum += n % int64(i+100)
	}
	alphabet := append([]byte(nil), h.alphabet...)
	lottery := alphabet[sum%int64(len(alphabet))]
	out := []byte{lottery}
	buf := make([]byte, 0, 1+len(h.salt)+len(alphabet))
	for i, n := range numbers {
		buf = append(append(append(buf[:0], lottery), h.salt...), alphabet...)
		shuffle(alphabet, buf[:len(alphabet)])
		start := len(out)
		out = appendNumber(out, n, alphabet)
		if i+1 < len(numbers) {
			n %= int64(out[start]) + int64(i)
			out = append(out, h.seps[n%int64(len(h.seps))])
		}
	}
	return string(out), nil
}

// appendNumber appends n written in alphabet's digits.
func appendNumber(out []byte, n int64, alphabet []byte) []byte {
	start := len(out)
	base := int64(len(alphabet))
	for {
		out = append(out, alphabet[n%base])
		n /= base
		if n == 0 {
			break
		}
	}
	for i, j := start, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Decode returns the numbers hash encodes, or nil when it is not a hash
// of this salt (decoding and encoding again must give hash back).
func (h *Hashids) Decode(hash string) []int64 {
	parts := splitAny(hash, h.guards)
	s := parts[0]
	if len(parts) == 2 || len(parts) == 3 {
		s = parts[1]
	}
	if s == "" {
		return nil
	}
	lottery, s := s[0], s[1:]
	alphabet := append([]byte(nil), h.alphabet...)
	buf := make([]byte, 0, 1+len(h.salt)+len(alphabet))
	var out []int64
	for _, sub := range splitAny(s, h.seps) {
		buf = append(append(append(buf[:0], lottery), h.salt...), alphabet...)
		shuffle(alphabet, buf[:len(alphabet)])
		n, ok := number(sub, alphabet)
		if !ok {
			return nil
		}
		out = append(out, n)
	}
	if again, err := h.Encode(out...); err != nil || again != hash {
		return nil
	}
	return out
}

// number reads s written in alphabet's digits; false when a character is
// not one of them or the number overflows.
func number(s string, alphabet []byte) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	base := int64(len(alphabet))
	for i := 0; i < len(s); i++ {
		d := int64(bytes.IndexByte(alphabet, s[i]))
		if d < 0 || n > (1<<63-1-d)/base {
			return 0, false
		}
		n = n*base + d
	}
	return n, true
}

// splitAny splits s at every byte of seps, keeping empty parts.
func splitAny(s string, seps []byte) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		if bytes.IndexByte(seps, s[i]) >= 0 {
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}
