package detectors

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/internal/chconn"
)

// TorrentSync copies torrent sizes from Postgres to ClickHouse's
// detector_torrents, incrementally by torrents.updated_at.
type TorrentSync struct {
	PG    *pgxpool.Pool
	CH    chconn.Conn
	since time.Time
}

// Sync copies torrents changed since the previous call and returns how many.
func (s *TorrentSync) Sync(ctx context.Context) (int, error) {
	if s.PG == nil {
		return 0, nil
	}
	rows, err := s.PG.Query(ctx, `SELECT id, size, updated_at FROM torrents WHERE updated_at > $1 ORDER BY updated_at`, s.since)
	if err != nil {
		return 0, fmt.Errorf("read torrent sizes: %w", err)
	}
	type row struct {
		id, size int64
		at       time.Time
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.size, &r.at); err != nil {
			rows.Close()
			return 0, fmt.Errorf("scan torrent size: %w", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read torrent sizes: %w", err)
	}
	if len(all) == 0 {
		return 0, nil
	}
	batch, err := s.CH.PrepareBatch(ctx, "INSERT INTO detector_torrents (torrent_id, size, version)")
	if err != nil {
		return 0, fmt.Errorf("prepare detector_torrents batch: %w", err)
	}
	for _, r := range all {
		if err := batch.Append(uint64(r.id), uint64(r.size), uint64(r.at.UnixMicro())); err != nil {
			_ = batch.Abort()
			return 0, fmt.Errorf("append torrent size: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return 0, fmt.Errorf("write detector_torrents: %w", err)
	}
	s.since = all[len(all)-1].at
	return len(all), nil
}
