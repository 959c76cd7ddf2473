package sitedb

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// unit3d reads UNIT3D as database/schema/mysql-schema.sql creates it:
// members in users (passkey, group_id → groups.name, can_download,
// deleted_at, created_at; the inviter is the invites row the member
// accepted), torrents in torrents (info_hash, name, size, free — the
// percentage of the download not counted — doubleup, fl_until, du_until,
// status, deleted_at, user_id, created_at).
//
// As UNIT3D-Announce and the control protocol (tracker/control/unit3d)
// treat them: a member soft-deleted or in the banned, validating or
// disabled group may not announce; a soft-deleted torrent is not
// registered, and neither is one moderation has not approved (status 1).
type unit3d struct{}

// unit3dBlocked are the groups whose members UNIT3D-Announce refuses.
var unit3dBlocked = map[string]bool{"banned": true, "validating": true, "disabled": true}

func (unit3d) members(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	return each(ctx, tx, `
		SELECT u.id, u.username, u.passkey, COALESCE(g.name, ''), COALESCE(g.slug, ''), u.deleted_at IS NULL,
		       u.can_download = 1,
		       COALESCE((SELECT MIN(i.user_id) FROM invites AS i WHERE i.accepted_by = u.id), 0), u.created_at
		FROM users AS u LEFT JOIN `+"`groups`"+` AS g ON g.id = u.group_id
		ORDER BY u.id`, func(rows *sql.Rows) error {
		m := Member{Row: Row{Table: "users", IDCol: "id"}}
		var slug string
		var created sql.NullTime
		if err := rows.Scan(&m.Row.ID, &m.Name, &m.Passkey, &m.Class, &slug, &m.Enabled, &m.CanLeech, &m.Inviter, &created); err != nil {
			return err
		}
		m.Enabled = m.Enabled && !unit3dBlocked[slug]
		m.Created = when(created)
		s.Members = append(s.Members, m)
		return nil
	})
}

func (unit3d) torrents(ctx context.Context, tx *sql.Tx, s *Snapshot) error {
	return each(ctx, tx, `
		SELECT id, info_hash, name, size, free, doubleup = 1, fl_until, du_until, status, deleted_at IS NOT NULL,
		       user_id, created_at
		FROM torrents ORDER BY id`, func(rows *sql.Rows) error {
		t := Torrent{Row: Row{Table: "torrents", IDCol: "id"}}
		var size float64
		var free, status int
		var double, deleted bool
		var flUntil, duUntil, created sql.NullTime
		if err := rows.Scan(&t.Row.ID, &t.InfoHash, &t.Name, &size, &free, &double, &flUntil, &duUntil, &status, &deleted,
			&t.Uploader, &created); err != nil {
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
		s.Torrents = append(s.Torrents, t)
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
