package core

import (
	"fmt"
	"strconv"
	"strings"
)

// ClientRule allows or bans clients whose peer_id starts with Prefix, within
// an inclusive version range, and names the user-agent family an allowed
// client must present.
type ClientRule struct {
	Prefix     string
	MinVersion string // "" : no lower bound
	MaxVersion string // "" : no upper bound; compared on its own precision ("3.5.4" covers 3.5.4.x)
	UAFamily   string // "" : any user agent
	Allowed    bool
	Reason     string // told to the client when the rule refuses
}

// ClientRules is a compiled, immutable rule set.
type ClientRules struct {
	rules        []compiledRule
	allowedAny   bool
	allowPrefixs map[string]bool
}

type compiledRule struct {
	ClientRule
	min, max []int
	family   string // lower case
}

// CompileClientRules checks and compiles rules. With no allowing rule at all,
// every client not banned is allowed; otherwise only the listed ones are.
func CompileClientRules(rules []ClientRule) (*ClientRules, error) {
	cr := &ClientRules{allowPrefixs: map[string]bool{}}
	for _, r := range rules {
		c := compiledRule{ClientRule: r, family: strings.ToLower(r.UAFamily)}
		if r.Prefix == "" {
			return nil, fmt.Errorf("client rule with an empty peer_id prefix")
		}
		var err error
		if c.min, err = parseDotted(r.MinVersion); err != nil {
			return nil, fmt.Errorf("client rule %s: min version: %w", r.Prefix, err)
		}
		if c.max, err = parseDotted(r.MaxVersion); err != nil {
			return nil, fmt.Errorf("client rule %s: max version: %w", r.Prefix, err)
		}
		cr.rules = append(cr.rules, c)
		if r.Allowed {
			cr.allowedAny = true
			cr.allowPrefixs[r.Prefix] = true
		}
	}
	return cr, nil
}

func parseDotted(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ".")
	out := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a dotted version", s)
		}
		out[i] = n
	}
	return out, nil
}

// Headers records which request headers that no BitTorrent client sends
// were present (the frontend fills it; announce logs replayed by the importer
// carry none). A browser, or a script replaying a browser's request, gives
// itself away by them, as UNIT3D-Announce checks.
type Headers uint8

// The headers Check refuses.
const (
	HeaderAcceptLanguage Headers = 1 << iota // a browser's language preferences
	HeaderReferer                            // a link followed from a page
	HeaderAcceptCharset                      // old browsers and HTTP libraries
	HeaderCookie                             // a browser's session with the site
	HeaderWantDigest                         // RFC 3230: download managers (aria2 ≤ 1.36 sends it, allowed from aria2)
)

// MaxUserAgent is the longest User-Agent accepted: real clients send 10 to
// 40 bytes; a longer one is a browser's or a forged string.
const MaxUserAgent = 64

// browserTokens are substrings of browsers', crawlers' and link checkers' user
// agents (lower case) that no BitTorrent client's user agent contains.
var browserTokens = []string{"mozilla", "browser", "chrome", "safari", "applewebkit", "opera", "links", "lynx", "bot", "unknown"}

// Check returns "" when the client may announce, else the reason told to it.
// h are the browser headers the request carried. It does not allocate when
// the client is allowed.
func (cr *ClientRules) Check(peerID []byte, userAgent string, h Headers) string {
	if msg := checkRequestShape(peerID, userAgent, h); msg != "" {
		return msg
	}
	var ver [8]int
	n := peerVersion(peerID, ver[:])
	v := ver[:n]
	// Bans first, wherever they are in the list.
	for i := range cr.rules {
		r := &cr.rules[i]
		if r.Allowed || !r.matchesPrefix(peerID) || !inVersionRange(v, r.min, r.max) {
			continue
		}
		if r.Reason != "" {
			return r.Reason
		}
		return "your client (" + r.Prefix + ") is not allowed on this tracker"
	}
	matchedAllowPrefix := false
	var tooOld *compiledRule
	for i := range cr.rules {
		r := &cr.rules[i]
		if !r.Allowed || !r.matchesPrefix(peerID) {
			continue
		}
		matchedAllowPrefix = true
		if !inVersionRange(v, r.min, r.max) {
			tooOld = r
			continue
		}
		if r.family != "" && userAgent == "" {
			return "your client sent no User-Agent: " + r.Prefix + " clients always send one, modified or fake clients are not allowed"
		}
		if r.family != "" && !containsFold(userAgent, r.family) {
			return fmt.Sprintf("your client's user agent %q does not match its peer id (%s): modified or fake clients are not allowed", clip(userAgent, 64), r.Prefix)
		}
		return ""
	}
	if tooOld != nil {
		if tooOld.MinVersion != "" {
			return fmt.Sprintf("your client version (%s) is not allowed: version %s or newer is required", versionString(peerID, v), tooOld.MinVersion)
		}
		return fmt.Sprintf("your client version (%s) is not allowed", versionString(peerID, v))
	}
	if cr.allowedAny && !matchedAllowPrefix {
		return fmt.Sprintf("your client (peer id %q) is not on the list of allowed clients", clip(printable(peerID), 8))
	}
	return ""
}

// checkRequestShape refuses browsers and scripted requests by their headers
// and user agent, whatever the rules: a header no BitTorrent client sends, a
// user agent over MaxUserAgent bytes or naming a browser or crawler.
// Want-Digest is aria2's own (1.35 and 1.36 send it on every request): it is
// refused only from a request that is not aria2's by both peer_id and user
// agent.
func checkRequestShape(peerID []byte, userAgent string, h Headers) string {
	if h&HeaderWantDigest != 0 && hasPrefixFold(userAgent, "aria2/") && len(peerID) >= 3 && string(peerID[:3]) == "A2-" {
		h &^= HeaderWantDigest
	}
	if h != 0 {
		return "abnormal access blocked: your request carries browser headers (" + headerNames(h) + "), use a BitTorrent client"
	}
	if len(userAgent) > MaxUserAgent {
		return fmt.Sprintf("your client's user agent is too long (%d bytes, at most %d)", len(userAgent), MaxUserAgent)
	}
	for i := 0; i < len(userAgent); i++ {
		c := lowerASCII(userAgent[i])
		if c < 'a' || c > 'z' {
			continue
		}
		for _, tok := range browserTokensByLetter[c-'a'] {
			if hasPrefixFold(userAgent[i:], tok) {
				return "web browsers, crawlers and scripts cannot announce: use a BitTorrent client"
			}
		}
	}
	return ""
}

// browserTokensByLetter indexes browserTokens by their first letter: one
// pass over the user agent finds any of them.
var browserTokensByLetter = func() (idx [26][]string) {
	for _, t := range browserTokens {
		idx[t[0]-'a'] = append(idx[t[0]-'a'], t)
	}
	return idx
}()

// headerNames lists the headers of h, for the refusal message.
func headerNames(h Headers) string {
	var names []string
	for i, name := range []string{"Accept-Language", "Referer", "Accept-Charset", "Cookie", "Want-Digest"} {
		if h&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
}

func (r *compiledRule) matchesPrefix(peerID []byte) bool {
	return len(peerID) >= len(r.Prefix) && string(peerID[:len(r.Prefix)]) == r.Prefix
}

// peerVersion decodes the version in a peer_id into out and returns how many
// components it found (0: unknown style).
func peerVersion(id []byte, out []int) int {
	switch {
	case len(id) >= 8 && id[0] == '-' && id[7] == '-':
		// Azureus style "-XXvvvv-": one base-36 digit per component.
		var d [4]int
		for i := 0; i < 4; i++ {
			c := id[3+i]
			switch {
			case c >= '0' && c <= '9':
				d[i] = int(c - '0')
			case c >= 'A' && c <= 'Z':
				d[i] = int(c-'A') + 10
			case c >= 'a' && c <= 'z':
				d[i] = int(c-'a') + 10
			default:
				return 0
			}
		}
		if id[1] == 'T' && id[2] == 'R' && d[0] <= 3 {
			// Transmission 1.x-3.x: "-TR2940-" is 2.94.
			out[0], out[1] = d[0], d[1]*10+d[2]
			return 2
		}
		copy(out, d[:])
		return 4
	case len(id) >= 3 && id[0] == 'A' && id[1] == '2' && id[2] == '-':
		// aria2 "A2-1-37-0-".
		n, cur, digits := 0, 0, 0
		for _, c := range id[3:] {
			if c >= '0' && c <= '9' {
				cur = cur*10 + int(c-'0')
				digits++
				if digits > 6 {
					return 0
				}
				continue
			}
			if c != '-' || digits == 0 || n == len(out) {
				break
			}
			out[n] = cur
			n++
			cur, digits = 0, 0
		}
		return n
	}
	return 0
}

// inVersionRange: min compares with missing components as zero; max is
// compared on its own precision, so "3.5.4" includes 3.5.4.x. An unknown
// version is only in a range without bounds.
func inVersionRange(v, min, max []int) bool {
	if len(v) == 0 {
		return min == nil && max == nil
	}
	if min != nil && compareVersions(v, min, len(v)+len(min)) < 0 {
		return false
	}
	if max != nil && compareVersions(v, max, len(max)) > 0 {
		return false
	}
	return true
}

func compareVersions(a, b []int, n int) int {
	for i := 0; i < n; i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func versionString(id []byte, v []int) string {
	if len(v) == 0 {
		return "unknown version of " + printable(id[:min(len(id), 3)])
	}
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = strconv.Itoa(n)
	}
	return printable(id[:min(len(id), 3)]) + " " + strings.Join(parts, ".")
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasPrefixFold: lowerPrefix must be lower case.
func hasPrefixFold(s, lowerPrefix string) bool {
	if len(s) < len(lowerPrefix) {
		return false
	}
	for i := 0; i < len(lowerPrefix); i++ {
		if lowerASCII(s[i]) != lowerPrefix[i] {
			return false
		}
	}
	return true
}

// containsFold: lowerSub must be lower case.
func containsFold(s, lowerSub string) bool {
	for i := 0; i+len(lowerSub) <= len(s); i++ {
		if hasPrefixFold(s[i:], lowerSub) {
			return true
		}
	}
	return false
}

func printable(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7f {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, "\\x%02x", c)
		}
	}
	return sb.String()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
