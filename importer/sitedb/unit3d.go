package sitedb

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"time"

	u3d "github.com/ratioguard/ratioguard/tracker/control/unit3d"
)

// unit3d reads UNIT3D as database/schema/mysql-schema.sql creates it:
// members in users (passkey, group_id → groups.slug as the class — the
// control protocol's name for a group — can_download,
// deleted_at, created_at; the inviter is the invites row the member
// accepted), torrents in torrents (info_hash, name, size, free — the
// percentage of the download not counted — doubleup, fl_until, du_until,
// status, deleted_at, user_id, created_at).
//
// As UNIT3D-Announce and the control protocol (tracker/control/unit3d)
// treat them: a member soft-deleted may not announce, nor one in the
// banned, validating or disabled group (Control.Blocked: disabled with the
// control protocol's reason, so that UNIT3D moving the member out of the
// group enables it again); a soft-deleted torrent is not registered, and
// neither is one moderation has not approved (status 1).
type unit3d struct{}

func (unit3d) members(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	return each(ctx, tx, `
		SELECT u.id, u.username, u.passkey, COALESCE(g.slug, ''), u.deleted_at IS NULL,
		       u.can_download = 1,
		       COALESCE((SELECT MIN(i.user_id) FROM invites AS i WHERE i.accepted_by = u.id), 0), u.created_at
		FROM users AS u LEFT JOIN `+"`groups`"+` AS g ON g.id = u.group_id
		ORDER BY u.id`, func(rows *sql.Rows) error {
		m := Member{Row: Row{Table: "users", IDCol: "id"}}
		var created sql.NullTime
		if err := rows.Scan(&m.Row.ID, &m.Name, &m.Passkey, &m.Class, &m.Enabled, &m.CanLeech, &m.Inviter, &created); err != nil {
			return err
		}
		m.Created = when(created)
		if u3d.Blocked(m.Class) && m.Enabled {
			if s.Control.Blocked == nil {
				s.Control.Blocked = map[int64]string{}
			}
			s.Control.Blocked[m.Row.ID] = m.Class
		}
		s.addMember(m)
		return nil
	})
}

func (unit3d) torrents(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	return each(ctx, tx, `
		SELECT id, info_hash, name, size, free, doubleup = 1, fl_until, du_until, status, deleted_at IS NOT NULL,
		       user_id, created_at, featured = 1
		FROM torrents ORDER BY id`, func(rows *sql.Rows) error {
		t := Torrent{Row: Row{Table: "torrents", IDCol: "id"}}
		var size float64
		var free, status int
		var double, deleted, featured bool
		var flUntil, duUntil, created sql.NullTime
		if err := rows.Scan(&t.Row.ID, &t.InfoHash, &t.Name, &size, &free, &double, &flUntil, &duUntil, &status, &deleted,
			&t.Uploader, &created, &featured); err != nil {
			return err
		}
		switch {
		case deleted:
			s.leave("torrents soft-deleted (deleted_at set): not registered")
			return nil
		case status != 1:
			s.leave("torrents not approved (status other than 1): not registered")
			return nil
		}
		t.Size = int64(size)
		t.Created = when(created)
		t.Promo, t.PromoUntil = unit3dPromo(free, double, when(flUntil), when(duUntil))
		if featured {
			s.Control.Featured = append(s.Control.Featured, t.Row)
		}
		s.Torrents = append(s.Torrents, t)
		return nil
	})
}

// control reads UNIT3D's groups, freeleech tokens (they last until the
// site removes them), blacklisted clients and personal freeleech.
func (unit3d) control(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	err := each(ctx, tx, "SELECT id, slug, download_slots, is_immune = 1, is_freeleech = 1, is_double_upload = 1 FROM `groups` ORDER BY id", func(rows *sql.Rows) error {
		var g u3d.Group
		var slots sql.NullInt64
		var immune, free, double bool
		if err := rows.Scan(&g.ID, &g.Slug, &slots, &immune, &free, &double); err != nil {
			return err
		}
		g.IsImmune, g.IsFreeleech, g.IsDoubleUpload = u3d.Flag(immune), u3d.Flag(free), u3d.Flag(double)
		if slots.Valid {
			n := int(slots.Int64)
			g.DownloadSlots = &n
		}
		s.Control.Classes = append(s.Control.Classes, GroupClass{Row: Row{Table: "groups", IDCol: "id", ID: int64(g.ID)}, Class: g.Class()})
		return nil
	})
	if err != nil {
		return err
	}
	err = each(ctx, tx, `SELECT id, user_id, torrent_id FROM freeleech_tokens ORDER BY id`, func(rows *sql.Rows) error {
		var t Token
		var id int64
		if err := rows.Scan(&id, &t.Member, &t.Torrent); err != nil {
			return err
		}
		t.Row = fmt.Sprintf("freeleech_tokens id %d", id)
		s.Control.Tokens = append(s.Control.Tokens, t)
		return nil
	})
	if err != nil {
		return err
	}
	err = each(ctx, tx, `SELECT id, peer_id_prefix FROM blacklist_clients ORDER BY id`, func(rows *sql.Rows) error {
		r := ClientRule{Row: Row{Table: "blacklist_clients", IDCol: "id"}}
		var prefix string
		if err := rows.Scan(&r.Row.ID, &prefix); err != nil {
			return err
		}
		r.Rule = u3d.BlacklistRule(prefix)
		s.Control.ClientRules = append(s.Control.ClientRules, r)
		return nil
	})
	if err != nil {
		return err
	}
	return each(ctx, tx, `SELECT DISTINCT user_id FROM personal_freeleeches ORDER BY user_id`, func(rows *sql.Rows) error {
		r := Row{Table: "users", IDCol: "id"}
		if err := rows.Scan(&r.ID); err != nil {
			return err
		}
		s.Control.PersonalFreeleech = append(s.Control.PersonalFreeleech, r)
		return nil
	})
}

// unit3dPromo maps free (percent of the download not counted) and doubleup
// to a site file promo; it ends when the first of its timed parts ends
// (UNIT3D's scheduler resets free at fl_until and doubleup at du_until).
func unit3dPromo(free int, double bool, flUntil, duUntil *time.Time) (string, *time.Time) {
	var promo string
	var until *time.Time
	switch {
	case free >= 100:
		promo, until = "free", flUntil
	case free > 0:
		promo, until = fmt.Sprintf("%d%%", 100-free), flUntil
	}
	if free < 0 {
		promo = fmt.Sprintf("free %d", free) // refused by the checks, with the row
	}
	if double {
		if promo == "" {
			promo, until = "2x", duUntil
		} else {
			promo += "+2x"
			if until == nil || duUntil != nil && duUntil.Before(*until) {
				until = duUntil
			}
		}
	}
	if promo == "" {
		return "none", nil
	}
	return promo, until
}

// history reads each member's opening balance (users.uploaded, downloaded,
// seedbonus; the seedtime of their history rows), snatches (history rows
// with completed_at: seedtime, credited uploaded and downloaded, last
// seeded at updated_at while seeder) and active peers (peers with active
// set, their counters at updated_at).
func (unit3d) history(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	members, torrents := s.byID()
	seedtime := map[int64]int64{}
	s.HasSnatches, s.HasPeers = true, true
	err := each(ctx, tx, `SELECT user_id, torrent_id, seedtime, uploaded, downloaded, seeder = 1, completed_at, updated_at
		FROM history ORDER BY user_id, torrent_id`, func(rows *sql.Rows) error {
		var user int64
		var sn Snatch
		var seeder bool
		var completed, updated sql.NullTime
		if err := rows.Scan(&user, &sn.Torrent, &sn.Seedtime, &sn.Uploaded, &sn.Downloaded, &seeder, &completed, &updated); err != nil {
			return err
		}
		seedtime[user] += sn.Seedtime
		i, ok := members[user]
		if _, known := torrents[sn.Torrent]; !ok || !known || !completed.Valid {
			return nil // not a snatch of an imported member and torrent: only its seedtime counts
		}
		sn.Completed = completed.Time.UTC()
		if seeder {
			sn.LastSeeded = when(updated)
		}
		s.addSnatch(i, sn)
		return nil
	})
	if err != nil {
		return err
	}
	for i := range s.Members {
		m := &s.Members[i]
		m.Opening = &Opening{Seedtime: seedtime[m.Row.ID]}
	}
	err = each(ctx, tx, `SELECT id, uploaded, downloaded, seedbonus FROM users`, func(rows *sql.Rows) error {
		var id int64
		var o Opening
		if err := rows.Scan(&id, &o.Uploaded, &o.Downloaded, &o.Bonus); err != nil {
			return err
		}
		if i, ok := members[id]; ok {
			s.Members[i].Opening.Uploaded, s.Members[i].Opening.Downloaded, s.Members[i].Opening.Bonus = o.Uploaded, o.Downloaded, o.Bonus
		}
		return nil
	})
	if err != nil {
		return err
	}
	return each(ctx, tx, "SELECT user_id, torrent_id, peer_id, ip, port, uploaded, downloaded, `left`, updated_at FROM peers WHERE active = 1 ORDER BY user_id, torrent_id, peer_id", func(rows *sql.Rows) error {
		var user int64
		var p Peer
		var ip []byte
		var port int
		var updated sql.NullTime
		if err := rows.Scan(&user, &p.Torrent, &p.PeerID, &ip, &port, &p.Uploaded, &p.Downloaded, &p.Left, &updated); err != nil {
			return err
		}
		addr, ok := netip.AddrFromSlice(ip)
		return s.addPeer(members, torrents, user, p, addr, ok, port, when(updated))
	})
}
