package sitedb

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"time"

	"github.com/ratioguard/ratioguard/tracker/control/ocelot"
)

// gazelle reads Gazelle (OPS) as its phinx migrations leave it: members in
// users_main (torrent_pass, PermissionID → permissions.Name, Enabled '1',
// can_leech, inviter_user_id, created), torrents in torrents (info_hash,
// Size, FreeTorrent — Gazelle's LeechType: '0' normal, '1' free, '2'
// neutral — UserID, created) named by their group (torrents_group.Name).
// Ocelot loads members with Enabled = '1' only; a deleted torrent is no
// longer in torrents (Gazelle moves it to deleted_torrents).
type gazelle struct{}

func (gazelle) members(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	return each(ctx, tx, `
		SELECT um.ID, um.Username, um.torrent_pass, COALESCE(p.Name, ''), um.Enabled = '1', um.can_leech = 1,
		       COALESCE(um.inviter_user_id, 0), um.created
		FROM users_main AS um LEFT JOIN permissions AS p ON p.ID = um.PermissionID
		ORDER BY um.ID`, func(rows *sql.Rows) error {
		m := Member{Row: Row{Table: "users_main", IDCol: "ID"}}
		var created sql.NullTime
		if err := rows.Scan(&m.Row.ID, &m.Name, &m.Passkey, &m.Class, &m.Enabled, &m.CanLeech, &m.Inviter, &created); err != nil {
			return err
		}
		m.Created = when(created)
		s.addMember(m)
		return nil
	})
}

// control reads Gazelle's freeleech tokens not used up (users_freeleeches,
// Expired = 0: they end when the download completes, as Ocelot's) and its
// client whitelist (xbt_client_whitelist: only listed clients announce).
func (gazelle) control(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	err := each(ctx, tx, `SELECT UserID, TorrentID FROM users_freeleeches WHERE Expired = 0 ORDER BY UserID, TorrentID`, func(rows *sql.Rows) error {
		t := Token{ExpiresOnCompletion: true}
		if err := rows.Scan(&t.Member, &t.Torrent); err != nil {
			return err
		}
		t.Row = fmt.Sprintf("users_freeleeches UserID %d TorrentID %d", t.Member, t.Torrent)
		s.Control.Tokens = append(s.Control.Tokens, t)
		return nil
	})
	if err != nil {
		return err
	}
	return each(ctx, tx, `SELECT id, peer_id FROM xbt_client_whitelist ORDER BY id`, func(rows *sql.Rows) error {
		r := ClientRule{Row: Row{Table: "xbt_client_whitelist", IDCol: "id"}}
		var peerID string
		if err := rows.Scan(&r.Row.ID, &peerID); err != nil {
			return err
		}
		r.Rule = ocelot.WhitelistRule(peerID)
		s.Control.ClientRules = append(s.Control.ClientRules, r)
		return nil
	})
}

// gazelleLeech maps FreeTorrent to a site file promo.
var gazelleLeech = map[string]string{"0": "none", "1": "free", "2": "neutral"}

func (gazelle) torrents(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	return each(ctx, tx, `
		SELECT t.ID, t.info_hash, COALESCE(tg.Name, ''), t.Size, t.FreeTorrent, t.UserID, t.created
		FROM torrents AS t LEFT JOIN torrents_group AS tg ON tg.ID = t.GroupID
		ORDER BY t.ID`, func(rows *sql.Rows) error {
		t := Torrent{Row: Row{Table: "torrents", IDCol: "ID"}}
		var free string
		var created sql.NullTime
		if err := rows.Scan(&t.Row.ID, &t.InfoHash, &t.Name, &t.Size, &free, &t.Uploader, &created); err != nil {
			return err
		}
		t.Created = when(created)
		t.Promo = gazelleLeech[free]
		if t.Promo == "" {
			t.Promo = "FreeTorrent " + free // refused by the checks, with the row
		}
		s.Torrents = append(s.Torrents, t)
		return nil
	})
}

// history reads each member's opening balance (users_leech_stats, the
// seeding time of their xbt_files_users rows, user_bonus.points) and
// snatches: xbt_snatched (the first completion of each torrent; Ocelot
// writes no seedtime there, the write-back neither) with the member's
// xbt_files_users rows of that torrent (seeding time, traffic, the last
// announce while seeding) and active peers (xbt_files_users with active
// set: the client's counters at mtime, the last announce). Ocelot keeps no
// port: each peer is imported with port 0 (unknown), a baseline the tracker
// hands to other peers only once its own announce gives the port. Ocelot
// stores an IPv6 peer's ip as the empty string: such a peer is left out
// and counted.
func (gazelle) history(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	members, torrents := s.byID()
	s.HasPeers = true
	type key struct{ user, torrent int64 }
	type files struct {
		seedtime, up, down int64
		lastSeeded         sql.NullInt64
	}
	perTorrent := map[key]files{}
	seedtime := map[int64]int64{}
	err := each(ctx, tx, `SELECT uid, fid, SUM(timespent), SUM(uploaded), SUM(downloaded), MAX(CASE WHEN remaining = 0 THEN mtime END)
		FROM xbt_files_users GROUP BY uid, fid`, func(rows *sql.Rows) error {
		var k key
		var f files
		if err := rows.Scan(&k.user, &k.torrent, &f.seedtime, &f.up, &f.down, &f.lastSeeded); err != nil {
			return err
		}
		perTorrent[k] = f
		seedtime[k.user] += f.seedtime
		return nil
	})
	if err != nil {
		return err
	}
	err = each(ctx, tx, `SELECT uls.UserID, uls.Uploaded, uls.Downloaded, COALESCE(ub.points, 0)
		FROM users_leech_stats AS uls LEFT JOIN user_bonus AS ub ON ub.user_id = uls.UserID`, func(rows *sql.Rows) error {
		var id int64
		var o Opening
		if err := rows.Scan(&id, &o.Uploaded, &o.Downloaded, &o.Bonus); err != nil {
			return err
		}
		if i, ok := members[id]; ok {
			o.Seedtime = seedtime[id]
			s.Members[i].Opening = &o
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.HasSnatches = true
	err = each(ctx, tx, `SELECT uid, fid, MIN(tstamp), MAX(seedtime) FROM xbt_snatched GROUP BY uid, fid ORDER BY uid, fid`, func(rows *sql.Rows) error {
		var k key
		var completed, seeded int64
		if err := rows.Scan(&k.user, &k.torrent, &completed, &seeded); err != nil {
			return err
		}
		i, ok := members[k.user]
		if _, known := torrents[k.torrent]; !ok || !known {
			s.leave("xbt_snatched rows of a member or torrent not read: not imported")
			return nil
		}
		f := perTorrent[k]
		sn := Snatch{Torrent: k.torrent, Completed: time.Unix(completed, 0).UTC(), Seedtime: max(seeded, f.seedtime), Uploaded: f.up, Downloaded: f.down}
		if f.lastSeeded.Valid && f.lastSeeded.Int64 > 0 {
			t := time.Unix(f.lastSeeded.Int64, 0).UTC()
			sn.LastSeeded = &t
		}
		s.addSnatch(i, sn)
		return nil
	})
	if err != nil {
		return err
	}
	return each(ctx, tx, `SELECT uid, fid, peer_id, ip, uploaded, downloaded, remaining, mtime
		FROM xbt_files_users WHERE active = 1 ORDER BY uid, fid, peer_id`, func(rows *sql.Rows) error {
		var user, mtime int64
		var p Peer
		var ip string
		if err := rows.Scan(&user, &p.Torrent, &p.PeerID, &ip, &p.Uploaded, &p.Downloaded, &p.Left, &mtime); err != nil {
			return err
		}
		addr, err := netip.ParseAddr(ip)
		at := time.Unix(mtime, 0).UTC()
		return s.addPeer(members, torrents, user, p, addr, err == nil, 0, &at)
	})
}
