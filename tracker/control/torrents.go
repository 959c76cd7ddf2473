package control

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// TorrentInput is a torrent as a site registers it. Name "" and Size < 0
// keep a known torrent's (a new one is named "site-<SiteID>" with size 0:
// Ocelot's add_torrent carries neither). Promotion nil keeps the torrent's
// (none on creation); Moderation "" keeps it (approved on creation).
type TorrentInput struct {
	SiteID     int64
	InfoHash   []byte
	Name       string
	Size       int64
	Promotion  *Promotion
	Moderation string
}

// PutTorrent registers the torrent or updates it; a deleted torrent
// registered again is live again.
func (s *Service) PutTorrent(ctx context.Context, actor string, in TorrentInput) (t Torrent, created bool, err error) {
	if len(in.InfoHash) != 20 {
		return Torrent{}, false, fmt.Errorf("%w: info_hash has %d bytes, want 20", ErrInvalid, len(in.InfoHash))
	}
	if in.SiteID < 0 {
		return Torrent{}, false, fmt.Errorf("%w: site id %d is negative", ErrInvalid, in.SiteID)
	}
	if in.Moderation != "" && !moderationSet[in.Moderation] {
		return Torrent{}, false, fmt.Errorf("%w: moderation %q is not approved, pending, rejected or postponed", ErrInvalid, in.Moderation)
	}
	var (
		pname        *string
		dl, up       *int
		until        *time.Time
		keepNameSize         = strings.TrimSpace(in.Name) == "" && in.Size < 0
		name, size           = strings.TrimSpace(in.Name), in.Size
		moderation   *string = nullStr(in.Moderation)
	)
	if p := in.Promotion; p != nil {
		if err := p.Check(); err != nil {
			return Torrent{}, false, err
		}
		pname, dl, up, until = &p.Name, &p.DownloadPercent, &p.UploadPercent, p.Until
	}
	if name == "" {
		name = fmt.Sprintf("site-%d", in.SiteID)
	}
	if size < 0 {
		size = 0
	}
	var id int64
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, query("upsert_torrent"), in.InfoHash, nullInt(in.SiteID), name, size, pname, dl, up, until,
			moderation, keepNameSize).Scan(&id, &created)
		if err != nil {
			return fmt.Errorf("put torrent %x: %w", in.InfoHash, classify(err))
		}
		action := "control.torrent.update"
		if created {
			action = "control.torrent.create"
		}
		return audit(ctx, tx, actor, action, "torrent", id, "", map[string]any{"site_id": in.SiteID, "promotion": in.Promotion, "moderation": in.Moderation})
	})
	if err != nil {
		return Torrent{}, false, err
	}
	t, err = s.Torrent(ctx, TorrentRef{ID: id})
	return t, created, err
}

// SetPromotion gives every torrent of refs the promotion p, all or none:
// one unknown torrent changes nothing.
func (s *Service) SetPromotion(ctx context.Context, actor string, refs []TorrentRef, p Promotion) error {
	if err := p.Check(); err != nil {
		return err
	}
	if len(refs) == 0 {
		return fmt.Errorf("%w: no torrent named", ErrInvalid)
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		ids := make([]int64, len(refs))
		for i, r := range refs {
			id, err := resolveTorrent(ctx, tx, r)
			if err != nil {
				return err
			}
			ids[i] = id
		}
		if _, err := tx.Exec(ctx, query("set_torrent_promotion"), ids, p.Name, p.DownloadPercent, p.UploadPercent, p.Until); err != nil {
			return fmt.Errorf("set promotion %q: %w", p.Name, classify(err))
		}
		for _, id := range ids {
			if err := audit(ctx, tx, actor, "control.torrent.promotion", "torrent", id, "", p); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteTorrent marks the torrent deleted: announces are refused with
// "unregistered torrent: <reason>" for a day, then "unregistered torrent".
func (s *Service) DeleteTorrent(ctx context.Context, actor string, r TorrentRef, reason string) error {
	reason = strings.TrimSpace(reason)
	return s.inTx(ctx, func(tx pgx.Tx) error {
		id, err := resolveTorrent(ctx, tx, r)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, query("delete_torrent"), id, reason); err != nil {
			return fmt.Errorf("delete %s: %w", r, err)
		}
		return audit(ctx, tx, actor, "control.torrent.delete", "torrent", id, reason, nil)
	})
}

// SetFeatured features the torrent (freeleech and double upload) or not.
func (s *Service) SetFeatured(ctx context.Context, actor string, r TorrentRef, on bool) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		id, err := resolveTorrent(ctx, tx, r)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, query("set_featured"), id, on); err != nil {
			return fmt.Errorf("feature %s: %w", r, err)
		}
		return audit(ctx, tx, actor, "control.torrent.featured", "torrent", id, "", map[string]bool{"featured": on})
	})
}

// Torrent reads one torrent.
func (s *Service) Torrent(ctx context.Context, r TorrentRef) (Torrent, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Torrent{}, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	id, err := resolveTorrent(ctx, tx, r)
	if err != nil {
		return Torrent{}, err
	}
	ts, err := listTorrents(ctx, tx, &id, TorrentFilter{Limit: 1})
	if err == nil && len(ts) == 0 {
		err = pgx.ErrNoRows
	}
	if err != nil {
		return Torrent{}, fmt.Errorf("read %s: %w", r, err)
	}
	return ts[0], nil
}

// TorrentFilter selects the torrents of a list; a nil field selects any.
type TorrentFilter struct {
	Deleted *bool
	// After pages: only ids above it (the last id of the previous page).
	After int64
	// Limit is the most torrents returned (1..MaxPage).
	Limit int
}

// Torrents lists torrents by id ascending: a page of at most f.Limit, and
// whether more follow (ask again with After the page's last id).
func (s *Service) Torrents(ctx context.Context, f TorrentFilter) (page []Torrent, more bool, err error) {
	if err := checkPage(f.After, f.Limit); err != nil {
		return nil, false, err
	}
	f.Limit++
	page, err = listTorrents(ctx, s.pool, nil, f)
	if err != nil {
		return nil, false, fmt.Errorf("list torrents: %w", err)
	}
	if more = len(page) == f.Limit; more {
		page = page[:len(page)-1]
	}
	return page, more, nil
}

func listTorrents(ctx context.Context, q querier, id *int64, f TorrentFilter) ([]Torrent, error) {
	rows, err := q.Query(ctx, query("torrents"), id, f.Deleted, f.After, f.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Torrent, error) {
		var (
			t  Torrent
			ih []byte
		)
		err := r.Scan(&t.ID, &t.SiteID, &ih, &t.Name, &t.Size, &t.Promotion.Name,
			&t.Promotion.DownloadPercent, &t.Promotion.UploadPercent, &t.Promotion.Until, &t.Featured, &t.Moderation,
			&t.DeletedAt, &t.DeletedReason)
		t.InfoHash = hex.EncodeToString(ih)
		return t, err
	})
}
