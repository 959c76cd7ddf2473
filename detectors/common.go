package detectors

import (
	"context"
	"sort"
	"strconv"
	"time"
)

type sizeRow struct {
	TorrentID uint64 `ch:"torrent_id"`
	Size      uint64 `ch:"size"`
}

// torrentSizes returns the size of every torrent Postgres knows (synced
// into detector_torrents), else of those in maxLeft: the largest `left` a
// peer reported.
func torrentSizes(ctx context.Context, env *Env, maxLeft map[uint64]uint64) (map[uint64]uint64, error) {
	out := map[uint64]uint64{}
	for id, l := range maxLeft {
		out[id] = l
	}
	var rows []sizeRow
	if err := selectRows(ctx, env, &rows, "torrent_sizes", params{}); err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.Size > 0 {
			out[r.TorrentID] = r.Size
		}
	}
	return out, nil
}

type swarmDownRow struct {
	TorrentID uint64 `ch:"torrent_id"`
	Down      uint64 `ch:"swarm_down"`
}

// swarmDown returns what each torrent's swarm reported downloading in the window.
func swarmDown(ctx context.Context, env *Env, w Window) (map[uint64]uint64, error) {
	out := map[uint64]uint64{}
	var rows []swarmDownRow
	if err := selectRows(ctx, env, &rows, "fu_swarm_down", windowParams(w)); err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.TorrentID] = r.Down
	}
	return out, nil
}

type seriesRow struct {
	UserID   uint64    `ch:"user_id"`
	Hour     time.Time `ch:"hour"`
	Up       uint64    `ch:"up"`
	Down     uint64    `ch:"down"`
	Networks uint64    `ch:"networks"`
}

// userSeries returns hourly upload, download and network-count series per member.
func userSeries(ctx context.Context, env *Env, w Window, users []uint64) (map[uint64][]Series, error) {
	out := map[uint64][]Series{}
	if len(users) == 0 {
		return out, nil
	}
	var rows []seriesRow
	// In chunks: the ids travel in the query text (max_query_size).
	for len(users) > 0 {
		n := min(len(users), 5000)
		var part []seriesRow
		p := windowParams(w)
		p["users"] = users[:n]
		if err := selectRows(ctx, env, &part, "user_series", p); err != nil {
			return nil, err
		}
		rows = append(rows, part...)
		users = users[n:]
	}
	type three struct{ up, down, nets Series }
	acc := map[uint64]*three{}
	for _, r := range rows {
		s := acc[r.UserID]
		if s == nil {
			s = &three{
				up:   Series{Name: "uploaded per hour (raw)", Unit: "bytes"},
				down: Series{Name: "downloaded per hour (raw)", Unit: "bytes"},
				nets: Series{Name: "networks per hour", Unit: "networks"},
			}
			acc[r.UserID] = s
		}
		t := r.Hour.UTC()
		s.up.Points = append(s.up.Points, Point{t, float64(r.Up)})
		s.down.Points = append(s.down.Points, Point{t, float64(r.Down)})
		s.nets.Points = append(s.nets.Points, Point{t, float64(r.Networks)})
	}
	for id, s := range acc {
		out[id] = []Series{s.up, s.down, s.nets}
	}
	return out, nil
}

// attachSeries adds each finding's member series to its evidence.
func attachSeries(ctx context.Context, env *Env, w Window, fs []Finding) error {
	ids := make([]uint64, 0, len(fs))
	for _, f := range fs {
		if f.UserID != 0 {
			ids = append(ids, f.UserID)
		}
	}
	series, err := userSeries(ctx, env, w, ids)
	if err != nil {
		return err
	}
	for i := range fs {
		fs[i].Evidence.Series = append(fs[i].Evidence.Series, series[fs[i].UserID]...)
	}
	return nil
}

// userFinding is the common shape of a finding about a member.
func userFinding(detector string, user uint64, w Window, signals []Signal, magnitude float64, summary string) Finding {
	return Finding{
		Detector:    detector,
		Kind:        SubjectUser,
		SubjectID:   strconv.FormatUint(user, 10),
		UserID:      user,
		WindowStart: w.From,
		WindowEnd:   w.Until,
		Score:       combine(signals),
		Magnitude:   magnitude,
		Evidence:    Evidence{Summary: summary, Signals: signals, LastSeen: w.Until},
	}
}

// topTorrents keeps the n rows with the most upload+download, largest first.
func topTorrents(rows []TorrentRow, n int) []TorrentRow {
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i].Uploaded+rows[i].Downloaded, rows[j].Uploaded+rows[j].Downloaded
		if a != b {
			return a > b
		}
		return rows[i].TorrentID < rows[j].TorrentID
	})
	if len(rows) > n {
		rows = rows[:n]
	}
	return rows
}

func sortedKeys[V any](m map[uint64]V) []uint64 {
	out := make([]uint64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

type maxLeftRow struct {
	TorrentID uint64 `ch:"torrent_id"`
	MaxLeft   uint64 `ch:"max_left"`
}

// otherPeersLeft fills the sizes Postgres does not know with the largest
// `left` any peer reported in the window (an incremental pass read only its
// subjects' peers, whose own `left` may all be 0).
func otherPeersLeft(ctx context.Context, env *Env, w Window, sizes map[uint64]uint64) error {
	var ids []uint64
	for id, s := range sizes {
		if s == 0 {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var rows []maxLeftRow
	p := windowParams(w)
	p["torrents"] = ids
	if err := selectRows(ctx, env, &rows, "fu_max_left", p); err != nil {
		return err
	}
	for _, r := range rows {
		sizes[r.TorrentID] = r.MaxLeft
	}
	return nil
}
