package site

import (
	"context"
	"database/sql"
	"time"
)

// unit3d writes UNIT3D's tables as UNIT3D-Announce does: users (credited
// deltas), torrents (seeders, leechers, times_completed, balance as deltas),
// history (credited, actual and client counters per member × torrent) and
// peers (one row per peer).
type unit3d struct{}

func (unit3d) name() string { return SiteUNIT3D }

func (unit3d) byUser() bool { return true }

func (unit3d) rows(p *plan) int64 {
	return int64(len(p.users) + len(p.torrents) + len(p.pairs) + len(p.peers))
}

// staleArg: peers.updated_at is a timestamp.
func (unit3d) staleArg(cut time.Time) any { return cut }

// unit3dAgentWidth is history.agent's and peers.agent's width.
const unit3dAgentWidth = 64

func (unit3d) write(ctx context.Context, tx *sql.Tx, p *plan) (missing int64, err error) {
	var args []any
	uids := sortedUsers(p.users)
	for _, u := range uids {
		s := p.users[u]
		args = append(args, u, s.up, s.down)
	}
	n, err := execRows(ctx, tx, "unit3d users", q("unit3d_users"), 3, args)
	if err != nil {
		return 0, err
	}
	missing += int64(len(uids)) - n

	args = args[:0]
	tids := sortedTorrents(p.torrents)
	for _, t := range tids {
		s := p.torrents[t]
		args = append(args, t, s.seeders, s.leechers, s.snatches, s.balance)
	}
	n, err = execRows(ctx, tx, "unit3d torrents", q("unit3d_torrents"), 5, args)
	if err != nil {
		return 0, err
	}
	missing += int64(len(tids)) - n

	args = args[:0]
	for _, k := range sortedPairs(p.pairs) {
		s := p.pairs[k]
		var completed any
		if !s.completed.IsZero() {
			completed = s.completed
		}
		args = append(args, k.user, k.torrent, truncate(s.agent, unit3dAgentWidth), s.credUp, s.rawUp, i64(s.clientUp),
			s.credDown, s.rawDown, i64(s.clientDown), s.seeder, s.active, s.seedtime, false, s.first, s.last, completed)
	}
	if _, err := execRows(ctx, tx, "unit3d history", q("unit3d_history"), 16, args); err != nil {
		return 0, err
	}

	args = args[:0]
	for _, k := range sortedPeers(p.peers, true) {
		s := p.peers[k]
		ip := s.ip
		if ip == nil {
			ip = []byte{} // NOT NULL: a nil slice would be bound as NULL
		}
		args = append(args, k.user, k.torrent, k.peer[:], ip, s.port, truncate(s.agent, unit3dAgentWidth),
			i64(s.up), i64(s.down), i64(s.left), s.seeder, s.active, true, false, s.first, s.last)
	}
	if _, err := execRows(ctx, tx, "unit3d peers", q("unit3d_peers"), 15, args); err != nil {
		return 0, err
	}
	return missing, nil
}
