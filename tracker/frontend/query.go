package frontend

import (
	"strconv"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/core"
)

// Limits on what a query may carry.
const (
	maxQueryBytes = 4096
	maxParams     = 40
	maxNumWant    = 100000
	maxScrape     = 74 // info_hashes per scrape
)

// knownParams are interned so the parameter order costs no allocation.
var knownParams = func() map[string]string {
	m := map[string]string{}
	for _, p := range []string{
		"info_hash", "peer_id", "port", "uploaded", "downloaded", "left", "corrupt", "event",
		"numwant", "key", "compact", "no_peer_id", "ip", "ipv4", "ipv6", "supportcrypto",
		"requirecrypto", "redundant", "trackerid", "localip", "cryptoport", "azudp", "hide",
		"azhttp", "azq", "azver", "azup", "passkey", "authkey",
	} {
		m[p] = p
	}
	return m
}()

// parseState holds the decoded bytes of one query; reused across requests.
type parseState struct {
	infoHash [64]byte
	peerID   [64]byte
	key      [64]byte
	params   [maxParams]string
	compact  bool
	noPeerID bool
}

// param bits for duplicate and presence checks.
const (
	pInfoHash = 1 << iota
	pPeerID
	pPort
	pUploaded
	pDownloaded
	pLeft
	pCorrupt
	pEvent
	pNumWant
	pKey
	pCompact
	pNoPeerID
)

// paramBit of the parameters the tracker reads; others are only recorded.
var paramBit = map[string]int{
	"info_hash": pInfoHash, "peer_id": pPeerID, "port": pPort, "uploaded": pUploaded,
	"downloaded": pDownloaded, "left": pLeft, "corrupt": pCorrupt, "event": pEvent,
	"numwant": pNumWant, "key": pKey, "compact": pCompact, "no_peer_id": pNoPeerID,
}

// parseAnnounce decodes an announce query into r (slices point into ps) and
// returns "" or the reason the query is malformed. It keeps info_hash and
// peer_id as raw bytes and the order of parameter names.
func parseAnnounce(q string, r *core.Request, ps *parseState) string {
	r.NumWant = -1
	ps.compact, ps.noPeerID = false, false
	if len(q) > maxQueryBytes {
		return "request too long"
	}
	seen := 0
	n := 0
	for len(q) > 0 {
		var pair string
		pair, q = cutByte(q, '&')
		if pair == "" {
			continue
		}
		name, val := cutByte(pair, '=')
		if n == maxParams {
			return "too many parameters"
		}
		interned, ok := knownParams[name]
		if !ok {
			var buf [64]byte
			dec, good := unescape(buf[:0], name)
			if !good || len(dec) == 0 || len(dec) > 48 {
				return "malformed parameter name"
			}
			interned = string(dec)
		}
		ps.params[n] = interned
		n++
		bit := paramBit[interned]
		if bit != 0 {
			if seen&bit != 0 {
				return "duplicated parameter: " + interned
			}
			seen |= bit
		}
		var bad string
		switch bit {
		case pInfoHash:
			r.InfoHash, bad = decodeID(ps.infoHash[:0], val, "info_hash")
		case pPeerID:
			r.PeerID, bad = decodeID(ps.peerID[:0], val, "peer_id")
		case pKey:
			k, good := unescape(ps.key[:0], val)
			if !good || len(val) > 3*len(ps.key) {
				return "malformed key"
			}
			r.Key = k
		case pPort:
			p, ok := parseUint(val)
			if !ok || p == 0 || p > 65535 {
				return "port must be a number from 1 to 65535"
			}
			r.Port = uint16(p)
		case pUploaded:
			r.Uploaded, bad = counter(val, "uploaded")
		case pDownloaded:
			r.Downloaded, bad = counter(val, "downloaded")
		case pLeft:
			r.Left, bad = counter(val, "left")
		case pCorrupt:
			r.Corrupt, bad = counter(val, "corrupt")
		case pEvent:
			switch val {
			case "", "empty":
				r.Event = events.Event_EVENT_NONE
			case "started":
				r.Event = events.Event_EVENT_STARTED
			case "stopped":
				r.Event = events.Event_EVENT_STOPPED
			case "completed":
				r.Event = events.Event_EVENT_COMPLETED
			case "paused":
				r.Event = events.Event_EVENT_PAUSED
			default:
				return "unknown event (expected started, stopped, completed or paused)"
			}
		case pNumWant:
			v, ok := parseUint(val)
			if !ok || v > maxNumWant {
				return "numwant must be a number from 0 to " + strconv.Itoa(maxNumWant)
			}
			r.NumWant = int(v)
		case pCompact:
			ps.compact = val == "1"
		case pNoPeerID:
			ps.noPeerID = val == "1"
		}
		if bad != "" {
			return bad
		}
	}
	r.ParamOrder = ps.params[:n]
	switch {
	case seen&pInfoHash == 0:
		return "missing parameter: info_hash"
	case seen&pPeerID == 0:
		return "missing parameter: peer_id"
	case seen&pPort == 0:
		return "missing parameter: port"
	case seen&pUploaded == 0:
		return "missing parameter: uploaded"
	case seen&pDownloaded == 0:
		return "missing parameter: downloaded"
	case seen&pLeft == 0:
		return "missing parameter: left"
	}
	return ""
}

// parseScrape collects the info_hashes of a scrape into dst.
func parseScrape(q string, dst [][20]byte) ([][20]byte, string) {
	if len(q) > maxQueryBytes*4 {
		return dst, "request too long"
	}
	for len(q) > 0 {
		var pair string
		pair, q = cutByte(q, '&')
		name, val := cutByte(pair, '=')
		if name != "info_hash" {
			continue
		}
		if len(dst) == maxScrape {
			return dst, "too many info_hash parameters (at most " + strconv.Itoa(maxScrape) + ")"
		}
		var buf [64]byte
		ih, bad := decodeID(buf[:0], val, "info_hash")
		if bad != "" {
			return dst, bad
		}
		dst = append(dst, [20]byte(ih))
	}
	if len(dst) == 0 {
		return dst, "scrape needs at least one info_hash"
	}
	return dst, ""
}

// decodeID unescapes a 20-byte id. Wrong lengths are reported; the bytes as
// sent (up to the buffer) are still returned for the event.
func decodeID(buf []byte, val, name string) ([]byte, string) {
	if len(val) > 3*cap(buf) {
		return nil, name + " is too long: it must be 20 bytes"
	}
	b, ok := unescape(buf, val)
	if !ok {
		return b, name + " is not correctly URL-encoded"
	}
	if len(b) != 20 {
		return b, name + " must be 20 bytes, got " + strconv.Itoa(len(b))
	}
	return b, ""
}

func counter(val, name string) (uint64, string) {
	v, ok := parseUint(val)
	if !ok {
		return 0, name + " must be a non-negative whole number of bytes"
	}
	return v, ""
}

// parseUint parses a decimal without sign, at most 19 digits (fits int64).
func parseUint(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > 19 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// unescape percent-decodes s into buf ('+' is a space); false on a bad
// escape or when buf's capacity is exceeded.
func unescape(buf []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if len(buf) == cap(buf) {
			return buf, false
		}
		switch c := s[i]; c {
		case '%':
			if i+2 >= len(s) {
				return buf, false
			}
			hi, ok1 := Unhex(s[i+1])
			lo, ok2 := Unhex(s[i+2])
			if !ok1 || !ok2 {
				return buf, false
			}
			buf = append(buf, hi<<4|lo)
			i += 2
		case '+':
			buf = append(buf, ' ')
		default:
			buf = append(buf, c)
		}
	}
	return buf, true
}

// Unhex is the value of the hexadecimal digit c (either case); false when c
// is not one. The importer decodes its logs' \xHH escapes with it too.
func Unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// cutByte splits s around the first c (all of s and "" when there is none).
// A plain loop: on these short query strings it beats strings.Cut, and it
// runs for every parameter of every announce.
func cutByte(s string, c byte) (before, after string) {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}
