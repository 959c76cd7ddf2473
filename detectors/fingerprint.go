package detectors

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// defaultClientFamilies maps peer_id prefixes to the user-agent family the
// client presents, as in the default client_rules rows.
var defaultClientFamilies = map[string]string{
	"-qB": "qbittorrent", "-TR": "transmission", "-DE": "deluge", "-lt": "rtorrent",
	"-LT": "libtorrent", "A2-": "aria2", "-UT": "utorrent",
}

type fpRow struct {
	UserID     uint64 `ch:"user_id"`
	PeerPrefix string `ch:"peer_prefix"`
	UA         string `ch:"ua"`
	KeyClass   string `ch:"key_class"`
	ParamOrder string `ch:"param_order"`
	Announces  uint64 `ch:"announces"`
	Uploaded   uint64 `ch:"uploaded"`
}

type fpResult struct {
	strength float64
	notes    []string
}

// clientFamilies reads client_rules (peer_id prefix → user-agent family),
// falling back to the defaults without Postgres.
func clientFamilies(ctx context.Context, env *Env) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range defaultClientFamilies {
		out[k] = v
	}
	if env.PG == nil {
		return out, nil
	}
	rows, err := env.PG.Query(ctx, sqlText("pg_client_rules"))
	if err != nil {
		return nil, fmt.Errorf("read client_rules: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var prefix, fam string
		if err := rows.Scan(&prefix, &fam); err != nil {
			return nil, fmt.Errorf("scan client_rules: %w", err)
		}
		out[prefix] = strings.ToLower(fam)
	}
	return out, rows.Err()
}

// familyOf returns the longest client_rules prefix the peer_id starts with.
func familyOf(peerPrefix string, fams map[string]string) (string, string) {
	best := ""
	for p := range fams {
		if strings.HasPrefix(peerPrefix, p) && len(p) > len(best) {
			best = p
		}
	}
	return best, fams[best]
}

// peerVersion decodes the version in a peer_id after its client prefix:
// Azureus style ("-qB4670-", "-lt0G00-") has one base-36 digit per
// component; Shadow/aria2 style ("A2-1-37-0-") separates decimal components
// with '-'.
func peerVersion(prefix, rest string) []int {
	var out []int
	if strings.HasSuffix(prefix, "-") && !strings.HasPrefix(prefix, "-") {
		for _, p := range strings.Split(rest, "-") {
			if n, err := strconv.Atoi(p); err == nil {
				out = append(out, n)
			}
		}
		return out
	}
	for i := 0; i < len(rest) && i < 4 && rest[i] != '-'; i++ {
		c := rest[i]
		switch {
		case c >= '0' && c <= '9':
			out = append(out, int(c-'0'))
		case c >= 'A' && c <= 'Z':
			out = append(out, int(c-'A')+10)
		case c >= 'a' && c <= 'z':
			out = append(out, int(c-'a')+10)
		default:
			return out
		}
	}
	return out
}

// uaVersions decodes every version a user agent carries after a '/':
// rTorrent names its libtorrent too ("rtorrent/0.9.8/0.13.8", and its
// peer_id carries libtorrent's 0.13.8), Deluge its libtorrent ("Deluge/2.0.3
// libtorrent/1.2.5.0").
func uaVersions(ua string) [][]int {
	var out [][]int
	for rest := ua; ; {
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			return out
		}
		rest = rest[i:]
		if v := uaVersion(rest); len(v) > 0 {
			out = append(out, v)
		}
		rest = rest[1:]
	}
}

// uaVersion decodes the version after the first '/' of a user agent:
// dotted ("4.6.7", "0.16.0/0.16.0") or one digit per component ("355(46206)").
func uaVersion(ua string) []int {
	_, after, ok := strings.Cut(ua, "/")
	if !ok {
		return nil
	}
	end := strings.IndexFunc(after, func(r rune) bool { return r != '.' && !unicode.IsDigit(r) })
	if end >= 0 {
		after = after[:end]
	}
	var out []int
	if strings.Contains(after, ".") {
		for _, p := range strings.Split(after, ".") {
			if n, err := strconv.Atoi(p); err == nil {
				out = append(out, n)
			}
		}
		return out
	}
	for _, r := range after {
		out = append(out, int(r-'0'))
	}
	return out
}

// versionsDisagree reports whether the peer_id's version is known to two
// components and none of the user agent's versions known that far agrees.
func versionsDisagree(peer []int, ua [][]int) bool {
	if len(peer) < 2 {
		return false
	}
	known := false
	for _, v := range ua {
		if len(v) < 2 {
			continue
		}
		known = true
		if v[0] == peer[0] && v[1] == peer[1] {
			return false
		}
	}
	return known
}

// fingerprints flags members whose peer_id contradicts their user agent, or
// whose (client, key format, parameter order) no other member of that
// client shares.
func fingerprints(ctx context.Context, env *Env, w Window) (map[uint64]fpResult, []fpRow, error) {
	fams, err := clientFamilies(ctx, env)
	if err != nil {
		return nil, nil, err
	}
	var rows []fpRow
	if err := selectRows(ctx, env, &rows, "fu_fingerprint", windowParams(w)); err != nil {
		return nil, nil, err
	}
	population := rows
	if env.pass.fpPopulation != nil {
		// An incremental pass reads few members: how common a combination
		// is comes from every member's fingerprints over the lookback
		// (fingerprintPopulation), plus the rows just read.
		population = append(append([]fpRow(nil), env.pass.fpPopulation...), rows...)
	}
	return judgeFingerprints(rows, population, fams, env.Config.FakedUpload.FingerprintMaxShare), rows, nil
}

// judgeFingerprints notes each member's mismatches among rows; how rare a
// combination is is counted over population.
func judgeFingerprints(rows, population []fpRow, fams map[string]string, maxShare float64) map[uint64]fpResult {
	// Members per client family and per (family, key class, order).
	type combo struct{ fam, key, order string }
	famUsers := map[string]map[uint64]bool{}
	comboUsers := map[combo]map[uint64]bool{}
	add := func(m map[uint64]bool, id uint64) map[uint64]bool {
		if m == nil {
			m = map[uint64]bool{}
		}
		m[id] = true
		return m
	}
	for _, r := range population {
		fam := familyCode(r.PeerPrefix)
		famUsers[fam] = add(famUsers[fam], r.UserID)
		k := combo{fam, r.KeyClass, r.ParamOrder}
		comboUsers[k] = add(comboUsers[k], r.UserID)
	}
	out := map[uint64]fpResult{}
	note := func(id uint64, s float64, msg string) {
		r := out[id]
		r.strength = max(r.strength, s)
		if len(r.notes) < 5 {
			r.notes = append(r.notes, msg)
		}
		out[id] = r
	}
	for _, r := range rows {
		prefix, uaFam := familyOf(r.PeerPrefix, fams)
		ua := strings.ToLower(r.UA)
		if prefix != "" && uaFam != "" {
			if !strings.Contains(ua, uaFam) {
				note(r.UserID, 1, fmt.Sprintf("peer_id %q is %s but the user agent is %q", printable(r.PeerPrefix), uaFam, r.UA))
				continue
			}
			if versionsDisagree(peerVersion(prefix, r.PeerPrefix[len(prefix):]), uaVersions(r.UA)) {
				note(r.UserID, 0.9, fmt.Sprintf("peer_id %q and user agent %q disagree on the version", printable(r.PeerPrefix), r.UA))
				continue
			}
		}
		fam := familyCode(r.PeerPrefix)
		n := len(famUsers[fam])
		shared := len(comboUsers[combo{fam, r.KeyClass, r.ParamOrder}])
		if n >= 10 && float64(shared)/float64(n) < maxShare {
			note(r.UserID, 0.85, fmt.Sprintf("key format %s with parameter order %q is used by %d of %d members of client %s",
				r.KeyClass, r.ParamOrder, shared, n, printable(fam)))
		}
	}
	for id, r := range out {
		sort.Strings(r.notes)
		out[id] = r
	}
	return out
}

// familyCode is the client part of a peer_id: "-qB" of "-qB4250-", else
// its first two characters.
func familyCode(peerPrefix string) string {
	if strings.HasPrefix(peerPrefix, "-") && len(peerPrefix) >= 3 {
		return peerPrefix[:3]
	}
	if len(peerPrefix) >= 2 {
		return peerPrefix[:2]
	}
	return peerPrefix
}

func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '.'
		}
		return r
	}, s)
}

// fpPopCache is every member's fingerprints over a lookback, read at most
// once per clock hour and kept between the scheduler's passes, with what
// the next read needs to read only what is new.
type fpPopCache struct {
	hour        time.Time // w.Until's hour when read
	lookback    time.Duration
	rows        []fpRow
	from, until uint32            // the window read (unix seconds)
	last        map[fpPair]uint32 // each pair's last announce in it
	counts      map[uint32]uint64 // announces per hour of it (the first from the start of its hour)
}

// fpPair is one member's client combination in the population.
type fpPair struct {
	user                 uint64
	fam, keyClass, order string
}

// fpPopRow is a row of fu_fp_population: a fingerprint row with the time
// of its last announce in the window.
type fpPopRow struct {
	fpRow
	LastAt uint32 `ch:"last_at"`
}

// fingerprintPopulation returns every member's fingerprints over the
// lookback of w as read in w.Until's hour (once an hour by a scheduler,
// once per process by `detect --once`): an incremental pass judges how rare
// a client combination is against it plus the new rows, as a full pass
// judges it against the whole window.
//
// A pair is in the window exactly when its last announce up to the window's
// end is in it, so a read after the first one keeps the previous read's
// pairs whose last announce is still in the window and reads from
// ClickHouse only the rows since the previous end — and, where an hour's
// announce count (announce_counts.sql) moved since that read because rows
// landed late, from that hour on: the same pairs as a read of the whole
// window.
func fingerprintPopulation(ctx context.Context, env *Env, w Window) ([]fpRow, error) {
	hour, lookback := w.Until.Truncate(time.Hour), w.Until.Sub(w.From)
	prev := env.fpCache
	if prev != nil && prev.hour.Equal(hour) && prev.lookback == lookback {
		return prev.rows, nil
	}
	from, until := unix(w.From), unix(w.Until)
	next := &fpPopCache{hour: hour, lookback: lookback, from: from, until: until,
		last: map[fpPair]uint32{}, counts: map[uint32]uint64{}}
	// Counted before the rows are read: a row landing in between is in the
	// rows, not in the count, and has its hour read again next time.
	count := func(a, b uint32) error {
		var counts []bucketCount
		if err := selectRows(ctx, env, &counts, "announce_counts", params{"bucket": uint32(3600), "from": a, "until": b}); err != nil {
			return err
		}
		for _, c := range counts {
			next.counts[c.Bucket] += c.N
		}
		return nil
	}
	readFrom := from
	if prev != nil && prev.from <= from && from < prev.until && prev.until <= until {
		if err := count(from/3600*3600, prev.until); err != nil {
			return nil, err
		}
		readFrom = prev.until
		for h, n := range next.counts {
			if n != prev.counts[h] {
				readFrom = min(readFrom, max(h, from)) // rows landed late in h
			}
		}
		for k, t := range prev.last {
			if t >= from {
				next.last[k] = t
			}
		}
		if err := count(prev.until, until); err != nil {
			return nil, err
		}
	} else if err := count(from/3600*3600, until); err != nil {
		return nil, err
	}
	var rows []fpPopRow
	if err := selectRows(ctx, env, &rows, "fu_fp_population", windowParams(Window{From: time.Unix(int64(readFrom), 0), Until: w.Until})); err != nil {
		return nil, err
	}
	for _, r := range rows {
		k := fpPair{r.UserID, r.PeerPrefix, r.KeyClass, r.ParamOrder}
		next.last[k] = max(next.last[k], r.LastAt)
	}
	next.rows = make([]fpRow, 0, len(next.last))
	for k := range next.last {
		next.rows = append(next.rows, fpRow{UserID: k.user, PeerPrefix: k.fam, KeyClass: k.keyClass, ParamOrder: k.order})
	}
	sort.Slice(next.rows, func(i, j int) bool {
		a, b := &next.rows[i], &next.rows[j]
		switch {
		case a.UserID != b.UserID:
			return a.UserID < b.UserID
		case a.PeerPrefix != b.PeerPrefix:
			return a.PeerPrefix < b.PeerPrefix
		case a.KeyClass != b.KeyClass:
			return a.KeyClass < b.KeyClass
		}
		return a.ParamOrder < b.ParamOrder
	})
	env.fpCache = next
	return next.rows, nil
}
