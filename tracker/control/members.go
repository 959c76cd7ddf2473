package control

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ratioguard/ratioguard/tracker/admin"
)

// MemberInput is a member as a site registers it: by its site id and
// passkey. Class and CanLeech nil keep the member's (member and true on
// creation); Name "" is "site-<SiteID>".
type MemberInput struct {
	SiteID   int64
	Name     string
	Passkey  string
	Class    *string
	CanLeech *bool
}

// PutMember registers the member the site knows by in.SiteID, or updates
// it: a new passkey replaces the old one (which stops working), and a
// member the site had removed is restored. A member already here with that
// passkey and no site id (imported) is adopted. created tells which.
func (s *Service) PutMember(ctx context.Context, actor string, in MemberInput) (m Member, created bool, err error) {
	if in.SiteID <= 0 {
		return Member{}, false, fmt.Errorf("%w: site id %d must be positive", ErrInvalid, in.SiteID)
	}
	if err := CheckPasskey(in.Passkey); err != nil {
		return Member{}, false, err
	}
	if in.Class != nil {
		if err := admin.CheckClass(*in.Class); err != nil {
			return Member{}, false, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		name = fmt.Sprintf("site-%d", in.SiteID)
	}
	var id int64
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, query("adopt_member"), in.Passkey, in.SiteID); err != nil {
			return fmt.Errorf("adopt member with site id %d: %w", in.SiteID, classify(err))
		}
		err := tx.QueryRow(ctx, query("upsert_member_by_site_id"), in.SiteID, name, in.Passkey, in.Class, in.CanLeech, RemovedReason).Scan(&id, &created)
		if err != nil {
			return fmt.Errorf("put member with site id %d: %w", in.SiteID, classify(err))
		}
		action := "control.member.update"
		if created {
			action = "control.member.create"
		}
		return audit(ctx, tx, actor, action, "user", id, "", map[string]any{"site_id": in.SiteID, "class": in.Class, "can_leech": in.CanLeech})
	})
	if err != nil {
		return Member{}, false, err
	}
	m, err = s.Member(ctx, MemberRef{ID: id})
	return m, created, err
}

// MemberPatch changes a member; nil fields stay as they are. Enabled true
// clears the disabled reason; Enabled false takes DisabledReason.
type MemberPatch struct {
	Passkey        *string `json:"passkey,omitempty"`
	Class          *string `json:"class,omitempty"`
	CanLeech       *bool   `json:"can_leech,omitempty"`
	Enabled        *bool   `json:"enabled,omitempty"`
	DisabledReason *string `json:"disabled_reason,omitempty"`
}

// UpdateMember applies p to the member r names.
func (s *Service) UpdateMember(ctx context.Context, actor string, r MemberRef, p MemberPatch) (Member, error) {
	if p.Passkey != nil {
		if err := CheckPasskey(*p.Passkey); err != nil {
			return Member{}, err
		}
	}
	if p.Class != nil {
		if err := admin.CheckClass(*p.Class); err != nil {
			return Member{}, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	if p.Passkey == nil && p.Class == nil && p.CanLeech == nil && p.Enabled == nil && p.DisabledReason == nil {
		return Member{}, fmt.Errorf("%w: nothing to change", ErrInvalid)
	}
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if id, err = resolveMember(ctx, tx, r); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, query("update_member"), id, p.Passkey, p.Class, p.CanLeech, p.Enabled, p.DisabledReason); err != nil {
			return fmt.Errorf("update %s: %w", r, classify(err))
		}
		shown := p
		if shown.Passkey != nil {
			pk := redact(*shown.Passkey)
			shown.Passkey = &pk
		}
		return audit(ctx, tx, actor, "control.member.update", "user", id, "", shown)
	})
	if err != nil {
		return Member{}, err
	}
	return s.Member(ctx, MemberRef{ID: id})
}

// ChangePasskey gives the member holding old the passkey new (Ocelot's
// change_passkey): old stops working.
func (s *Service) ChangePasskey(ctx context.Context, actor, old, new string) (Member, error) {
	if err := CheckPasskey(old); err != nil {
		return Member{}, err
	}
	return s.UpdateMember(ctx, actor, MemberRef{Passkey: old}, MemberPatch{Passkey: &new})
}

// RemoveMember disables the member with RemovedReason (the row stays: the
// ledger's history refers to it). Adding it again (PutMember) restores it.
func (s *Service) RemoveMember(ctx context.Context, actor string, r MemberRef) error {
	off, reason := false, RemovedReason
	_, err := s.UpdateMember(ctx, actor, r, MemberPatch{Enabled: &off, DisabledReason: &reason})
	return err
}

// Member reads one member.
func (s *Service) Member(ctx context.Context, r MemberRef) (Member, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Member{}, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	id, err := resolveMember(ctx, tx, r)
	if err != nil {
		return Member{}, err
	}
	ms, err := listMembers(ctx, tx, &id, MemberFilter{Limit: 1})
	if err == nil && len(ms) == 0 {
		err = pgx.ErrNoRows
	}
	if err != nil {
		return Member{}, fmt.Errorf("read %s: %w", r, err)
	}
	return ms[0], nil
}

// MemberFilter selects the members of a list; a nil field selects any.
type MemberFilter struct {
	Class   *string
	Enabled *bool
	// Removed: removed by the site (disabled with RemovedReason), or not.
	Removed *bool
	// After pages: only ids above it (the last id of the previous page).
	After int64
	// Limit is the most members returned (1..MaxPage).
	Limit int
}

// MaxPage is the most rows a list returns at once.
const MaxPage = 1000

// Members lists members by id ascending: a page of at most f.Limit, and
// whether more follow (ask again with After the page's last id).
func (s *Service) Members(ctx context.Context, f MemberFilter) (page []Member, more bool, err error) {
	if err := checkPage(f.After, f.Limit); err != nil {
		return nil, false, err
	}
	f.Limit++
	page, err = listMembers(ctx, s.pool, nil, f)
	if err != nil {
		return nil, false, fmt.Errorf("list members: %w", err)
	}
	if more = len(page) == f.Limit; more {
		page = page[:len(page)-1]
	}
	return page, more, nil
}

func checkPage(after int64, limit int) error {
	if after < 0 {
		return Invalidf("after %d is negative", after)
	}
	if limit < 1 || limit > MaxPage {
		return Invalidf("limit %d is not within 1..%d", limit, MaxPage)
	}
	return nil
}

func listMembers(ctx context.Context, q querier, id *int64, f MemberFilter) ([]Member, error) {
	rows, err := q.Query(ctx, query("members"), id, f.Class, f.Enabled, f.Removed, RemovedReason, f.After, f.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Member, error) {
		var m Member
		err := r.Scan(&m.ID, &m.SiteID, &m.Name, &m.Passkey, &m.Class, &m.Enabled,
			&m.DisabledReason, &m.CanLeech, &m.PersonalFreeleech, &m.PersonalFreeleechUntil, &m.SiteGroupID)
		return m, err
	})
}

// SetPersonalFreeleech gives the member personal freeleech until until
// (nil: until removed).
func (s *Service) SetPersonalFreeleech(ctx context.Context, actor string, r MemberRef, until *time.Time) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		id, err := resolveMember(ctx, tx, r)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, query("set_personal_freeleech"), id, until); err != nil {
			return fmt.Errorf("personal freeleech for %s: %w", r, classify(err))
		}
		return audit(ctx, tx, actor, "control.personal_freeleech.set", "user", id, "", map[string]any{"until": until})
	})
}

// RemovePersonalFreeleech ends the member's personal freeleech (none: no error).
func (s *Service) RemovePersonalFreeleech(ctx context.Context, actor string, r MemberRef) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		id, err := resolveMember(ctx, tx, r)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, query("remove_personal_freeleech"), id); err != nil {
			return fmt.Errorf("remove personal freeleech of %s: %w", r, err)
		}
		return audit(ctx, tx, actor, "control.personal_freeleech.remove", "user", id, "", nil)
	})
}

// AddToken gives the member a freeleech token on the torrent; with
// expiresOnCompletion (Gazelle's tokens) it ends once the member completes
// the download (ExpireTokens).
func (s *Service) AddToken(ctx context.Context, actor string, m MemberRef, t TorrentRef, expiresOnCompletion bool) error {
	return s.token(ctx, actor, m, t, "control.token.add", func(tx pgx.Tx, tid, uid int64) error {
		_, err := tx.Exec(ctx, query("add_token"), tid, uid, expiresOnCompletion)
		return err
	})
}

// RemoveToken takes back the member's freeleech token on the torrent (none: no error).
func (s *Service) RemoveToken(ctx context.Context, actor string, m MemberRef, t TorrentRef) error {
	return s.token(ctx, actor, m, t, "control.token.remove", func(tx pgx.Tx, tid, uid int64) error {
		_, err := tx.Exec(ctx, query("remove_token"), tid, uid)
		return err
	})
}

func (s *Service) token(ctx context.Context, actor string, m MemberRef, t TorrentRef, action string, write func(tx pgx.Tx, tid, uid int64) error) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		uid, err := resolveMember(ctx, tx, m)
		if err != nil {
			return err
		}
		tid, err := resolveTorrent(ctx, tx, t)
		if err != nil {
			return err
		}
		if err := write(tx, tid, uid); err != nil {
			return fmt.Errorf("freeleech token of %s on %s: %w", m, t, classify(err))
		}
		return audit(ctx, tx, actor, action, "user", uid, "", map[string]any{"torrent_id": tid})
	})
}

// ExpireTokens deletes the tokens that end on completion whose holder the
// ledger has seen with nothing left to download on the torrent since the
// token was given, and returns how many.
func (s *Service) ExpireTokens(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, query("expire_tokens"))
	if err != nil {
		return 0, fmt.Errorf("expire freeleech tokens: %w", err)
	}
	return tag.RowsAffected(), nil
}

// ExpireTokensEvery runs ExpireTokens every period until ctx ends (several
// trackers may run it: the delete is idempotent).
func (s *Service) ExpireTokensEvery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := s.ExpireTokens(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.Warn("freeleech token expiry", "err", err)
			} else if n > 0 {
				s.log.Info("freeleech tokens expired at completion", "tokens", n)
			}
		}
	}
}

// MemberSiteIDs maps internal member ids to the site's ids (members the
// site does not know are left out).
func (s *Service) MemberSiteIDs(ctx context.Context, ids []int64) (map[int64]int64, error) {
	rows, err := s.pool.Query(ctx, query("member_site_ids"), ids)
	if err != nil {
		return nil, fmt.Errorf("read members' site ids: %w", err)
	}
	out := map[int64]int64{}
	var id, site int64
	_, err = pgx.ForEachRow(rows, []any{&id, &site}, func() error { out[id] = site; return nil })
	if err != nil {
		return nil, fmt.Errorf("read members' site ids: %w", err)
	}
	return out, nil
}

// Class is a member class (a UNIT3D group) and its promotion.
type Class struct {
	Name            string `json:"name"`
	SiteGroupID     *int64 `json:"site_group_id,omitempty"`
	DownloadPercent int    `json:"download_percent"`
	UploadPercent   int    `json:"upload_percent"`
	Immune          bool   `json:"immune"`
	DownloadSlots   *int   `json:"download_slots,omitempty"`
}

// PutClass creates or replaces a class. A class with c.SiteGroupID under
// another name is renamed, and its members follow (a group's slug changed).
func (s *Service) PutClass(ctx context.Context, actor string, c Class) error {
	if err := admin.CheckClass(c.Name); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := (Promotion{Name: c.Name, DownloadPercent: c.DownloadPercent, UploadPercent: c.UploadPercent}).Check(); err != nil {
		return err
	}
	if c.UploadPercent == 0 {
		return fmt.Errorf("%w: a class cannot be neutral leech", ErrInvalid)
	}
	if c.DownloadSlots != nil && *c.DownloadSlots < 0 {
		return fmt.Errorf("%w: download_slots %d is negative (null: unlimited, 0: seeding only)", ErrInvalid, *c.DownloadSlots)
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if c.SiteGroupID != nil {
			var old string
			err := tx.QueryRow(ctx, query("class_by_group"), *c.SiteGroupID).Scan(&old)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				// Members put before their group took its placeholder name.
				if _, err := tx.Exec(ctx, query("rename_class"), GroupClass(*c.SiteGroupID), c.Name); err != nil {
					return fmt.Errorf("move members of group %d to class %q: %w", *c.SiteGroupID, c.Name, classify(err))
				}
			case err != nil:
				return fmt.Errorf("look up group %d: %w", *c.SiteGroupID, err)
			case old != c.Name:
				if _, err := tx.Exec(ctx, query("rename_class"), old, c.Name); err != nil {
					return fmt.Errorf("rename class %q to %q: %w", old, c.Name, classify(err))
				}
			}
		}
		if _, err := tx.Exec(ctx, query("upsert_class"), c.Name, c.SiteGroupID, c.DownloadPercent, c.UploadPercent, c.Immune, c.DownloadSlots); err != nil {
			return fmt.Errorf("put class %q: %w", c.Name, classify(err))
		}
		return audit(ctx, tx, actor, "control.class.put", "class", 0, c.Name, c)
	})
}

// GroupClass is the class of members whose site group is not known yet
// ("group-<id>"); PutClass of that group renames them.
func GroupClass(groupID int64) string { return fmt.Sprintf("group-%d", groupID) }

// ClassOfGroup returns the class of a site group id.
func (s *Service) ClassOfGroup(ctx context.Context, groupID int64) (string, error) {
	var name string
	err := s.pool.QueryRow(ctx, query("class_by_group"), groupID).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("%w: group %d", ErrNotFound, groupID)
	}
	if err != nil {
		return "", fmt.Errorf("look up group %d: %w", groupID, err)
	}
	return name, nil
}

// DeleteClass removes a class's promotion (its members keep the class name).
func (s *Service) DeleteClass(ctx context.Context, actor, name string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, query("delete_class"), name)
		if err != nil {
			return fmt.Errorf("delete class %q: %w", name, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: class %q", ErrNotFound, name)
		}
		return audit(ctx, tx, actor, "control.class.delete", "class", 0, name, nil)
	})
}
