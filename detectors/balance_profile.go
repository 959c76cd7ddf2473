package detectors

import (
	"context"
	"math"
	"sort"
)

// A seeder announces every half hour or so, and the delta of an announce
// just after a bucket boundary covers minutes on both sides of it. Sharing
// it in proportion to time puts upload where nobody downloaded: a leecher
// that takes a whole copy in the minutes before the boundary announces its
// completion at once, while its seeders report that upload up to half an
// hour later. The download profile says when each swarm's leechers took
// their bytes (each download delta spread evenly over its own interval: a
// leecher announces its completion at once, so those intervals are
// short), and a straddling upload delta is shared between the two buckets
// in proportion to what the swarm downloaded on each side — by time only
// when the swarm downloaded nothing over its interval.

// profileRow is one download delta (fu_balance_profile.sql).
type profileRow struct {
	TorrentID uint64  `ch:"torrent_id"`
	At        uint32  `ch:"at"`
	Secs      uint32  `ch:"secs"`
	Down      float64 `ch:"down"`
}

// profileBefore orders rows as fu_balance_profile.sql does.
func profileBefore(a, b *profileRow) bool {
	if a.TorrentID != b.TorrentID {
		return a.TorrentID < b.TorrentID
	}
	return a.At < b.At
}

// downloadInterval is one download delta: bytes over (from, at].
type downloadInterval struct {
	from, at uint32
	bytes    float64
}

// downloadProfile is each torrent's download deltas, ordered by their end.
type downloadProfile map[uint64][]downloadInterval

// readDownloadProfile reads the profile of the window p describes: the rows
// from ClickHouse but for those from skipFrom to skipUntil, which come from
// reused (kept from an earlier fit, in the query's order). keep sees every
// row, in order.
func readDownloadProfile(ctx context.Context, env *Env, p params, reused []profileRow, skipFrom, skipUntil uint32, keep func(*profileRow)) (downloadProfile, error) {
	out := downloadProfile{}
	add := func(r *profileRow) {
		keep(r)
		out[r.TorrentID] = append(out[r.TorrentID], downloadInterval{r.At - min(r.Secs, r.At), r.At, r.Down})
	}
	err := streamMerged(ctx, env, "fu_balance_profile", p, reused, profileBefore,
		func(r *profileRow) bool { return r.At >= skipFrom && r.At < skipUntil }, add)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// downloaded is what the torrent's swarm downloaded over (a, b].
func (p downloadProfile) downloaded(torrent uint64, a, b uint32) float64 {
	iv := p[torrent]
	var sum float64
	// Intervals last at most 3 h: those that end from a to b + 3 h.
	for i := sort.Search(len(iv), func(i int) bool { return iv[i].at > a }); i < len(iv) && iv[i].at < b+10800; i++ {
		x := iv[i]
		if lo, hi := max(a, x.from), min(b, x.at); hi > lo {
			sum += x.bytes * float64(hi-lo) / float64(x.at-x.from)
		}
	}
	return sum
}

// shareBefore is the part of a delta over (from, at] that belongs before
// boundary: what the torrent's swarm downloaded before it over what it
// downloaded over the whole interval, or the time before it when the swarm
// downloaded nothing then.
func (p downloadProfile) shareBefore(torrent uint64, from, boundary, at uint32) float64 {
	if boundary <= from || at <= from {
		return 0
	}
	if all := p.downloaded(torrent, from, at); all > 0 {
		return math.Min(1, p.downloaded(torrent, from, boundary)/all)
	}
	return math.Min(1, float64(boundary-from)/float64(at-from))
}
