package site

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// siteIDs maps ratioguard's member and torrent ids to the site's
// (users.site_id, torrents.site_id). Found ids are cached; ids without a
// site_id are looked up again with every batch that has them (the control
// protocols may set it at any time).
type siteIDs struct {
	pool *pgxpool.Pool

	mu       sync.Mutex
	users    map[int64]int64
	torrents map[int64]int64
}

func newSiteIDs(pool *pgxpool.Pool) *siteIDs {
	return &siteIDs{pool: pool, users: map[int64]int64{}, torrents: map[int64]int64{}}
}

func (s *siteIDs) user(id int64) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.users[id]
	return v, ok
}

func (s *siteIDs) torrent(id int64) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.torrents[id]
	return v, ok
}

// resolve looks up the site ids of the announces' members and torrents
// that are not cached yet.
func (s *siteIDs) resolve(ctx context.Context, as []*events.Announce) error {
	var users, torrents []int64
	wantU, wantT := map[int64]bool{}, map[int64]bool{}
	s.mu.Lock()
	for _, a := range as {
		u, t := int64(a.GetUserId()), int64(a.GetTorrentId())
		if _, ok := s.users[u]; !ok && !wantU[u] {
			wantU[u] = true
			users = append(users, u)
		}
		if _, ok := s.torrents[t]; !ok && !wantT[t] {
			wantT[t] = true
			torrents = append(torrents, t)
		}
	}
	s.mu.Unlock()
	if err := s.lookup(ctx, q("site_users"), users, s.users); err != nil {
		return fmt.Errorf("look up members' site ids: %w", err)
	}
	if err := s.lookup(ctx, q("site_torrents"), torrents, s.torrents); err != nil {
		return fmt.Errorf("look up torrents' site ids: %w", err)
	}
	return nil
}

func (s *siteIDs) lookup(ctx context.Context, sql string, ids []int64, into map[int64]int64) error {
	if len(ids) == 0 {
		return nil
	}
	rs, err := s.pool.Query(ctx, sql, ids)
	if err != nil {
		return err
	}
	type row struct{ ID, SiteID int64 }
	found, err := pgx.CollectRows(rs, pgx.RowToStructByPos[row])
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range found {
		into[r.ID] = r.SiteID
	}
	return nil
}
