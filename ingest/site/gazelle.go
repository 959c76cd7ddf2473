package site

import (
	"context"
	"database/sql"
	"time"
)

// gazelle writes Gazelle's (OPS) tables as Ocelot does: users_leech_stats
// (credited deltas), torrents_leech_stats (seeders, leechers, snatches,
// balance), xbt_files_users (one row per peer), xbt_snatched (one row per
// completion) and users_freeleeches (raw download under a token), and
// queues each token a completion used up for the expiry callback.
type gazelle struct{}

func (gazelle) name() string { return SiteGazelle }

func (gazelle) byUser() bool { return false }

func (gazelle) rows(p *plan) int64 {
	return int64(len(p.users) + len(p.torrents) + len(p.peers) + len(p.snatches) + len(p.tokens) + len(p.expiries))
}

// staleArg: xbt_files_users.mtime is Unix seconds.
func (gazelle) staleArg(cut time.Time) any { return cut.Unix() }

// agentWidth is xbt_files_users.useragent's width.
const gazelleAgentWidth = 51

func (gazelle) write(ctx context.Context, tx *sql.Tx, p *plan) (missing int64, err error) {
	var args []any
	uids := sortedUsers(p.users)
	for _, u := range uids {
		s := p.users[u]
		args = append(args, u, s.up, s.down)
	}
	n, err := execRows(ctx, tx, "gazelle users_leech_stats", q("gazelle_users"), 3, args)
	if err != nil {
		return 0, err
	}
	missing += int64(len(uids)) - n

	args = args[:0]
	tids := sortedTorrents(p.torrents)
	for _, t := range tids {
		s := p.torrents[t]
		var last any // none: only peers dropped by the tracker (last_action stays)
		if !s.last.IsZero() {
			last = s.last
		}
		args = append(args, t, s.seeders, s.leechers, s.snatches, s.balance, last)
	}
	n, err = execRows(ctx, tx, "gazelle torrents_leech_stats", q("gazelle_torrents"), 6, args)
	if err != nil {
		return 0, err
	}
	missing += int64(len(tids)) - n

	args = args[:0]
	for _, k := range sortedPeers(p.peers, false) {
		s := p.peers[k]
		args = append(args, k.user, k.torrent, k.peer[:], s.active, i64(s.up), i64(s.down), i64(s.left), i64(s.corrupt),
			s.upspeed, s.downspeed, s.timespent, s.announces, ipText(s.ip), truncate(s.agent, gazelleAgentWidth), s.last.Unix())
	}
	if _, err := execRows(ctx, tx, "gazelle xbt_files_users", q("gazelle_peers"), 15, args); err != nil {
		return 0, err
	}

	args = args[:0]
	for _, s := range p.snatches {
		args = append(args, s.user, s.torrent, s.at.Unix(), ipText(s.ip))
	}
	if _, err := execRows(ctx, tx, "gazelle xbt_snatched", q("gazelle_snatches"), 4, args); err != nil {
		return 0, err
	}

	args = args[:0]
	for _, k := range sortedPairs(p.tokens) {
		s := p.tokens[k]
		args = append(args, k.user, k.torrent, s.at, s.down)
	}
	if _, err := execRows(ctx, tx, "gazelle users_freeleeches", q("gazelle_tokens"), 4, args); err != nil {
		return 0, err
	}

	args = args[:0]
	for _, k := range sortedPairs(p.expiries) {
		args = append(args, k.user, k.torrent, p.expiries[k].UnixNano())
	}
	if _, err := execRows(ctx, tx, "queue token expiries", q("gazelle_expiries"), 3, args); err != nil {
		return 0, err
	}
	return missing, nil
}
