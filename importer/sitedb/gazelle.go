package sitedb

import (
	"context"
	"database/sql"
	"fmt"

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
		if !m.CanLeech {
			s.Control.NoLeech = append(s.Control.NoLeech, m.Row)
		}
		s.Members = append(s.Members, m)
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
