package detectors

import (
	"context"
	"sort"
)

type fuConsCandidate struct {
	TorrentID uint64 `ch:"torrent_id"`
	SumUp     uint64 `ch:"sum_up"`
	SumDown   uint64 `ch:"sum_down"`
	Size      uint64 `ch:"size"`
}

type fuConsRaw struct {
	TorrentID  uint64 `ch:"torrent_id"`
	UserID     uint64 `ch:"user_id"`
	Up         uint64 `ch:"up"`
	SumCorrupt uint64 `ch:"sum_corrupt"`
}

// conservation returns one row per uploader of each torrent whose closed
// swarm reported more upload than download and corruption by more than the
// floor: the candidates come from the torrent_hour rollup, then only their
// raw rows are read (a few dozen torrents, not the whole window).
func conservation(ctx context.Context, env *Env, w Window, c FakedUploadConfig) ([]fuConsRow, error) {
	p := windowParams(w)
	p["closed_after"] = uint32(c.ClosedAfter.Seconds())
	p["floor_pct"] = c.ExcessFloorPct
	var cands []fuConsCandidate
	if err := selectRows(ctx, env, &cands, "fu_cons_candidates", p); err != nil {
		return nil, err
	}
	if len(cands) == 0 {
		return nil, nil
	}
	byID := make(map[uint64]fuConsCandidate, len(cands))
	ids := make([]uint64, 0, len(cands))
	for _, t := range cands {
		byID[t.TorrentID] = t
		ids = append(ids, t.TorrentID)
	}
	p = windowParams(w)
	p["torrents"] = ids
	var raw []fuConsRaw
	if err := selectRows(ctx, env, &raw, "fu_conservation", p); err != nil {
		return nil, err
	}
	// A fixed order, so the blame sums come out the same to the last bit.
	sort.Slice(raw, func(i, j int) bool {
		if raw[i].TorrentID != raw[j].TorrentID {
			return raw[i].TorrentID < raw[j].TorrentID
		}
		return raw[i].UserID < raw[j].UserID
	})
	var out []fuConsRow
	for _, r := range raw {
		t := byID[r.TorrentID]
		excess := int64(t.SumUp) - int64(t.SumDown) - int64(r.SumCorrupt)
		if float64(excess) <= float64(t.Size)*c.ExcessFloorPct/100 {
			continue
		}
		out = append(out, fuConsRow{TorrentID: r.TorrentID, Size: t.Size, SumUp: t.SumUp, SumDown: t.SumDown,
			SumCorrupt: r.SumCorrupt, UserID: r.UserID, Up: r.Up})
	}
	return out, nil
}
