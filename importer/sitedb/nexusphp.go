package sitedb

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
)

// nexusphp reads NexusPHP as its database/schema/mysql-schema.sql creates
// it: members in users (passkey, class — a number, named below — enabled,
// status, parked, invited_by, added), their tracker report secrets in
// torrent_secrets (uid, torrent_id, secret), torrents in torrents
// (info_hash, name, size, sp_state, promotion_time_type, promotion_until,
// banned, owner, added). NexusPHP's announce.php refuses a member not
// enabled, not confirmed or parked, and a banned torrent (not registered
// here).
type nexusphp struct{}

// nexusClasses are NexusPHP's class names (App\Models\User::CLASS_*).
var nexusClasses = []string{"Peasant", "User", "Power User", "Elite User", "Crazy User", "Insane User", "Veteran User",
	"Extreme User", "Ultimate User", "Nexus Master", "VIP", "Retiree", "Uploader", "Moderator", "Administrator",
	"SysOp", "Staff Leader"}

// nexusPromo maps sp_state to a site file promo.
var nexusPromo = map[int]string{1: "none", 2: "free", 3: "2x", 4: "free2x", 5: "50%", 6: "2x50%", 7: "30%"}

func (nexusphp) members(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	byID := map[int64]int{}
	err := each(ctx, tx, `
		SELECT id, username, passkey, class, enabled = 'yes' AND status = 'confirmed' AND parked = 'no',
		       downloadpos = 'yes', invited_by, added
		FROM users ORDER BY id`, func(rows *sql.Rows) error {
		m := Member{Row: Row{Table: "users", IDCol: "id"}}
		var class int
		var created sql.NullTime
		if err := rows.Scan(&m.Row.ID, &m.Name, &m.Passkey, &class, &m.Enabled, &m.CanLeech, &m.Inviter, &created); err != nil {
			return err
		}
		if class >= 0 && class < len(nexusClasses) {
			m.Class = nexusClasses[class]
		} else {
			m.Class = fmt.Sprintf("class %d", class) // a site's own class, kept by number
		}
		m.Created = when(created)
		byID[m.Row.ID] = len(s.Members)
		s.addMember(m)
		return nil
	})
	if err != nil {
		return err
	}
	return each(ctx, tx, `SELECT uid, torrent_id, secret FROM torrent_secrets ORDER BY id`, func(rows *sql.Rows) error {
		var uid, tid int64
		var secret string
		if err := rows.Scan(&uid, &tid, &secret); err != nil {
			return err
		}
		i, ok := byID[uid]
		if !ok {
			s.leave("torrent_secrets of no member: not imported")
			return nil
		}
		m := &s.Members[i]
		if m.ReportSecrets == nil {
			m.ReportSecrets = map[int64]string{}
		}
		m.ReportSecrets[tid] = secret // the latest row wins, as NexusPHP reads the newest
		return nil
	})
}

// control: NexusPHP's client list (agent_allowed_family) is patterns on
// peer_id and User-Agent with their own matching, which client rules do
// not hold: not read.
func (nexusphp) control(context.Context, *sql.Tx, *Snapshot) error { return nil }

// history reads each member's opening balance (users.uploaded,
// downloaded, seedtime, seedbonus), snatches (snatched rows finished: the
// first completedat, seedtime, traffic, last_action while nothing was left)
// and active peers (peers: ip, port, counters, last_action).
func (nexusphp) history(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	members, torrents := s.byID()
	s.HasSnatches, s.HasPeers = true, true
	err := each(ctx, tx, `SELECT id, uploaded, downloaded, seedtime, seedbonus FROM users`, func(rows *sql.Rows) error {
		var id int64
		var o Opening
		if err := rows.Scan(&id, &o.Uploaded, &o.Downloaded, &o.Seedtime, &o.Bonus); err != nil {
			return err
		}
		if i, ok := members[id]; ok {
			s.Members[i].Opening = &o
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = each(ctx, tx, `SELECT userid, torrentid, MIN(completedat), MAX(seedtime), MAX(uploaded), MAX(downloaded),
			MAX(CASE WHEN to_go = 0 THEN last_action END)
		FROM snatched WHERE finished = 'yes' GROUP BY userid, torrentid ORDER BY userid, torrentid`, func(rows *sql.Rows) error {
		var user int64
		var sn Snatch
		var completed, seeded sql.NullTime
		if err := rows.Scan(&user, &sn.Torrent, &completed, &sn.Seedtime, &sn.Uploaded, &sn.Downloaded, &seeded); err != nil {
			return err
		}
		i, ok := members[user]
		if _, known := torrents[sn.Torrent]; !ok || !known || when(completed) == nil {
			s.leave("snatched rows of a member or torrent not read, or without completedat: not imported")
			return nil
		}
		sn.Completed, sn.LastSeeded = *when(completed), when(seeded)
		s.addSnatch(i, sn)
		return nil
	})
	if err != nil {
		return err
	}
	return each(ctx, tx, `SELECT userid, torrent, peer_id, ip, port, uploaded, downloaded, to_go, last_action
		FROM peers ORDER BY userid, torrent, peer_id`, func(rows *sql.Rows) error {
		var user int64
		var p Peer
		var ip string
		var port int
		var last sql.NullTime
		if err := rows.Scan(&user, &p.Torrent, &p.PeerID, &ip, &port, &p.Uploaded, &p.Downloaded, &p.Left, &last); err != nil {
			return err
		}
		addr, err := netip.ParseAddr(ip)
		return s.addPeer(members, torrents, user, p, addr, err == nil, port, when(last))
	})
}

func (nexusphp) torrents(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	return each(ctx, tx, `
		SELECT id, info_hash, name, size, sp_state, promotion_time_type, promotion_until, banned = 'yes', owner, added
		FROM torrents ORDER BY id`, func(rows *sql.Rows) error {
		t := Torrent{Row: Row{Table: "torrents", IDCol: "id"}}
		var state, timeType int
		var banned bool
		var until, created sql.NullTime
		if err := rows.Scan(&t.Row.ID, &t.InfoHash, &t.Name, &t.Size, &state, &timeType, &until, &banned, &t.Uploader, &created); err != nil {
			return err
		}
		if banned {
			s.leave("torrents banned: not registered")
			return nil
		}
		t.Created = when(created)
		t.Promo = nexusPromo[state]
		if t.Promo == "" {
			t.Promo = fmt.Sprintf("sp_state %d", state) // refused by the checks, with the row
		}
		// promotion_time_type 2: until promotion_until; 0 (the site's
		// global rule) and 1 (forever): no end.
		if timeType == 2 && t.Promo != "none" {
			t.PromoUntil = when(until)
		}
		s.Torrents = append(s.Torrents, t)
		return nil
	})
}
