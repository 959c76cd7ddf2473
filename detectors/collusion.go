package detectors

import (
	"context"
	"sort"
)

// colTorrentHour is a row of fu_collusion_hours: a torrent-hour where one
// member uploaded and one other downloaded.
type colTorrentHour struct {
	Hour      uint32 `ch:"hour"`
	TorrentID uint64 `ch:"torrent_id"`
	UpUser    uint64 `ch:"up_user"`
	DownUser  uint64 `ch:"down_user"`
	Bytes     uint64 `ch:"bytes"`
}

// colKept is collusion's torrent-hours of the whole clock hours of the last
// incremental read, with each hour's announce count when read.
type colKept struct {
	hours  map[uint32][]colTorrentHour
	counts map[uint32]uint64
}

type colTorrent struct {
	TorrentID uint64 `ch:"torrent_id"`
}

type colTotalUp struct {
	UserID  uint64 `ch:"user_id"`
	TotalUp uint64 `ch:"total_up"`
}

// collusionPairs returns fu_collusion's rows: per (uploader, downloader)
// pair, the torrents (at least minTorrents) and bytes of the torrent-hours
// where they alone traded, with the uploader's whole upload in the window.
// A full pass runs fu_collusion. An incremental pass, whose subjects are
// few, adds the pairs up itself from the torrent-hours — each one's rows
// depend on that hour's announces alone — keeping those of the window's
// whole hours for the next pass, which reads from ClickHouse only the
// hours not kept (the partial first and last ones, the new ones, and any
// whose announce count moved because rows landed late): the same pairs,
// torrents and bytes fu_collusion gives with its incremental torrent filter
// (the torrents the subjects uploaded on), for every pair one of whose
// members is a subject — the only pairs the detector reads.
func collusionPairs(ctx context.Context, env *Env, w Window, minTorrents int) ([]fuCollusionRow, error) {
	if !incremental(w) || env.subjects == nil {
		var col []fuCollusionRow
		p := windowParams(w)
		p["min_torrents"] = uint64(minTorrents)
		if err := selectRows(ctx, env, &col, "fu_collusion", p); err != nil {
			return nil, err
		}
		return col, nil
	}
	from, until := unix(w.From), unix(w.Until)
	whole := func(h uint32) bool { return h >= from && h+3600 <= until }
	p := windowParams(w)
	var counts []bucketCount
	if err := selectRows(ctx, env, &counts, "announce_counts", params{"bucket": uint32(3600), "from": from, "until": until}); err != nil {
		return nil, err
	}
	prev := env.collusion
	next := &colKept{hours: map[uint32][]colTorrentHour{}, counts: map[uint32]uint64{}}
	keptHours := []uint32{0}
	for _, c := range counts {
		if !whole(c.Bucket) {
			continue
		}
		next.counts[c.Bucket] = c.N
		if rows, ok := prev.hour(c.Bucket, c.N); ok {
			next.hours[c.Bucket] = rows
			keptHours = append(keptHours, c.Bucket)
		} else {
			next.hours[c.Bucket] = []colTorrentHour{} // read below; kept even when empty
		}
	}
	p["kept_hours"] = keptHours
	var fresh []colTorrentHour
	if err := selectRows(ctx, env, &fresh, "fu_collusion_hours", p); err != nil {
		return nil, err
	}
	all := fresh
	for _, r := range fresh {
		if whole(r.Hour) {
			next.hours[r.Hour] = append(next.hours[r.Hour], r)
		}
	}
	for _, h := range keptHours[1:] {
		all = append(all, next.hours[h]...)
	}
	env.collusion = next

	// The torrent filter: a pair's torrent-hour counts when a subject
	// uploaded on the torrent in the window — its uploader when that is a
	// subject; else ClickHouse says, for the torrents of the pairs whose
	// downloader alone is a subject and who traded on enough torrents to
	// count.
	subject := func(id uint64) bool { return containsID(env.subjects, id) }
	type pair struct{ up, down uint64 }
	unsure := map[pair]map[uint64]bool{}
	for _, r := range all {
		if !subject(r.UpUser) && subject(r.DownUser) {
			k := pair{r.UpUser, r.DownUser}
			if unsure[k] == nil {
				unsure[k] = map[uint64]bool{}
			}
			unsure[k][r.TorrentID] = true
		}
	}
	var ask []uint64
	for _, ts := range unsure {
		if len(ts) >= minTorrents {
			for t := range ts {
				ask = append(ask, t)
			}
		}
	}
	uploaded := map[uint64]bool{}
	if len(ask) > 0 {
		var rows []colTorrent
		q := windowParams(w)
		q["torrents"], q["active_list"] = uniqueIDs(ask), env.subjects
		if err := selectRows(ctx, env, &rows, "fu_collusion_torrents", q); err != nil {
			return nil, err
		}
		for _, r := range rows {
			uploaded[r.TorrentID] = true
		}
	}
	type sum struct {
		torrents map[uint64]bool
		bytes    uint64
	}
	pairs := map[pair]*sum{}
	for _, r := range all {
		if !subject(r.UpUser) && !(subject(r.DownUser) && uploaded[r.TorrentID]) {
			continue
		}
		k := pair{r.UpUser, r.DownUser}
		s := pairs[k]
		if s == nil {
			s = &sum{torrents: map[uint64]bool{}}
			pairs[k] = s
		}
		s.torrents[r.TorrentID] = true
		s.bytes += r.Bytes
	}
	var out []fuCollusionRow
	var ups []uint64
	for k, s := range pairs {
		if len(s.torrents) >= minTorrents {
			out = append(out, fuCollusionRow{UpUser: k.up, DownUser: k.down, Torrents: uint64(len(s.torrents)), Bytes: s.bytes})
			ups = append(ups, k.up)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].UpUser != out[j].UpUser {
			return out[i].UpUser < out[j].UpUser
		}
		return out[i].DownUser < out[j].DownUser
	})
	var tot []colTotalUp
	q := windowParams(w)
	q["users"] = uniqueIDs(ups)
	if err := selectRows(ctx, env, &tot, "fu_collusion_total_up", q); err != nil {
		return nil, err
	}
	total := make(map[uint64]uint64, len(tot))
	for _, t := range tot {
		total[t.UserID] = t.TotalUp
	}
	for i := range out {
		out[i].TotalUp = total[out[i].UpUser]
	}
	return out, nil
}

// hour returns the torrent-hours kept of the whole hour h when its announce
// count is still n.
func (k *colKept) hour(h uint32, n uint64) ([]colTorrentHour, bool) {
	if k == nil {
		return nil, false
	}
	rows, ok := k.hours[h]
	return rows, ok && k.counts[h] == n
}
