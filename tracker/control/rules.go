package control

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ratioguard/ratioguard/ingest/ledger"
	"github.com/ratioguard/ratioguard/tracker/core"
)

// SitePromotion is a site-wide promotion window.
type SitePromotion struct {
	ID              int64     `json:"id"`
	Name            string    `json:"name"`
	DownloadPercent int       `json:"download_percent"`
	UploadPercent   int       `json:"upload_percent"`
	Starts          time.Time `json:"starts_at"`
	Ends            time.Time `json:"ends_at"`
}

// AddSitePromotion opens a site-wide window and returns its id.
func (s *Service) AddSitePromotion(ctx context.Context, actor string, p SitePromotion) (int64, error) {
	if err := (Promotion{Name: p.Name, DownloadPercent: p.DownloadPercent, UploadPercent: p.UploadPercent}).Check(); err != nil {
		return 0, err
	}
	if p.UploadPercent == 0 {
		return 0, fmt.Errorf("%w: a site-wide window cannot be neutral leech", ErrInvalid)
	}
	if !p.Ends.After(p.Starts) {
		return 0, fmt.Errorf("%w: ends_at %s is not after starts_at %s", ErrInvalid, p.Ends.Format(time.RFC3339), p.Starts.Format(time.RFC3339))
	}
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, query("insert_site_promotion"), p.Name, p.DownloadPercent, p.UploadPercent, p.Starts, p.Ends).Scan(&id); err != nil {
			return fmt.Errorf("add site promotion %q: %w", p.Name, classify(err))
		}
		return audit(ctx, tx, actor, "control.site_promotion.add", "site_promotion", id, "", p)
	})
	return id, err
}

// DeleteSitePromotion ends a window now.
func (s *Service) DeleteSitePromotion(ctx context.Context, actor string, id int64) error {
	return s.deleteByID(ctx, actor, "delete_site_promotion", "site_promotion", id)
}

// SitePromotions lists the windows that have not ended.
func (s *Service) SitePromotions(ctx context.Context) ([]SitePromotion, error) {
	rows, err := s.pool.Query(ctx, query("site_promotions"))
	if err != nil {
		return nil, fmt.Errorf("list site promotions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SitePromotion, error) {
		var p SitePromotion
		err := r.Scan(&p.ID, &p.Name, &p.DownloadPercent, &p.UploadPercent, &p.Starts, &p.Ends)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("list site promotions: %w", err)
	}
	return out, nil
}

// ClientRule is a client rule row (see core.ClientRule).
type ClientRule struct {
	ID         int64  `json:"id"`
	Prefix     string `json:"peer_id_prefix"`
	MinVersion string `json:"min_version,omitempty"`
	MaxVersion string `json:"max_version,omitempty"`
	UAFamily   string `json:"ua_family,omitempty"`
	Allowed    bool   `json:"allowed"`
	Reason     string `json:"reason,omitempty"`
}

// AddClientRule adds a rule and returns its id; the rule set with it must
// compile (a bad version is refused here, not at the tracker).
func (s *Service) AddClientRule(ctx context.Context, actor string, r ClientRule) (int64, error) {
	if r.Prefix == "" {
		return 0, fmt.Errorf("%w: a client rule needs a peer_id prefix", ErrInvalid)
	}
	if len(r.Prefix) > 20 {
		return 0, fmt.Errorf("%w: peer_id prefix %q is longer than a peer_id", ErrInvalid, Clip(r.Prefix))
	}
	if _, err := core.CompileClientRules([]core.ClientRule{{Prefix: r.Prefix, MinVersion: r.MinVersion, MaxVersion: r.MaxVersion,
		UAFamily: r.UAFamily, Allowed: r.Allowed, Reason: r.Reason}}); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if !r.Allowed && r.Reason == "" {
		r.Reason = "your client (" + r.Prefix + ") is not allowed on this tracker"
	}
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, query("insert_client_rule"), r.Prefix, r.MinVersion, r.MaxVersion, r.UAFamily, r.Allowed, r.Reason).Scan(&id); err != nil {
			return fmt.Errorf("add client rule %q: %w", r.Prefix, classify(err))
		}
		return audit(ctx, tx, actor, "control.client_rule.add", "client_rule", id, "", r)
	})
	return id, err
}

// DeleteClientRule removes a rule by id.
func (s *Service) DeleteClientRule(ctx context.Context, actor string, id int64) error {
	return s.deleteByID(ctx, actor, "delete_client_rule", "client_rule", id)
}

// DeleteClientRules removes the allowing (allowed) or banning rules with
// this prefix and returns how many went (Ocelot's remove_whitelist,
// UNIT3D's blacklisted-agents DELETE).
func (s *Service) DeleteClientRules(ctx context.Context, actor, prefix string, allowed bool) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, query("delete_client_rules_by_prefix"), prefix, allowed)
		if err != nil {
			return fmt.Errorf("delete client rules %q: %w", prefix, err)
		}
		if n = tag.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: no client rule with prefix %q", ErrNotFound, Clip(prefix))
		}
		return audit(ctx, tx, actor, "control.client_rule.delete", "client_rule", 0, prefix, map[string]any{"allowed": allowed, "rows": n})
	})
	return n, err
}

// RenameClientRules changes the prefix of the allowing or banning rules
// with prefix old (Ocelot's edit_whitelist).
func (s *Service) RenameClientRules(ctx context.Context, actor, old, new string, allowed bool) error {
	if new == "" || len(new) > 20 {
		return fmt.Errorf("%w: peer_id prefix %q must be 1 to 20 bytes", ErrInvalid, Clip(new))
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, query("rename_client_rules"), old, new, allowed)
		if err != nil {
			return fmt.Errorf("rename client rules %q: %w", old, classify(err))
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: no client rule with prefix %q", ErrNotFound, Clip(old))
		}
		return audit(ctx, tx, actor, "control.client_rule.rename", "client_rule", 0, old, map[string]string{"new": new})
	})
}

// ClientRules lists every rule.
func (s *Service) ClientRules(ctx context.Context) ([]ClientRule, error) {
	rows, err := s.pool.Query(ctx, query("client_rules"))
	if err != nil {
		return nil, fmt.Errorf("list client rules: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ClientRule, error) {
		var c ClientRule
		err := r.Scan(&c.ID, &c.Prefix, &c.MinVersion, &c.MaxVersion, &c.UAFamily, &c.Allowed, &c.Reason)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("list client rules: %w", err)
	}
	return out, nil
}

// AddSeedbox declares a seedbox range of a member and returns its id.
func (s *Service) AddSeedbox(ctx context.Context, actor string, m MemberRef, cidr string, countsForCap bool, note string) (int64, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(cidr))
	if err != nil {
		a, aerr := netip.ParseAddr(strings.TrimSpace(cidr))
		if aerr != nil {
			return 0, fmt.Errorf("%w: %q is not a CIDR or address", ErrInvalid, Clip(cidr))
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	p = p.Masked()
	var id int64
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		uid, err := resolveMember(ctx, tx, m)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, query("insert_seedbox"), uid, p.String(), countsForCap, note).Scan(&id); err != nil {
			return fmt.Errorf("add seedbox %s of %s: %w", p, m, classify(err))
		}
		return audit(ctx, tx, actor, "control.seedbox.add", "user", uid, note, map[string]any{"cidr": p.String(), "counts_for_ip_cap": countsForCap})
	})
	return id, err
}

// DeleteSeedbox removes a declared range by id.
func (s *Service) DeleteSeedbox(ctx context.Context, actor string, id int64) error {
	return s.deleteByID(ctx, actor, "delete_seedbox", "seedbox_range", id)
}

func (s *Service) deleteByID(ctx context.Context, actor, q, kind string, id int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, query(q), id)
		if err != nil {
			return fmt.Errorf("delete %s %d: %w", kind, id, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: %s %d", ErrNotFound, kind, id)
		}
		return audit(ctx, tx, actor, "control."+kind+".delete", kind, id, "", nil)
	})
}

// Adjustment is a ledger adjustment made through the control surface
// (bonus purchases of upload credit, staff corrections). Key makes it
// idempotent and is required.
type Adjustment struct {
	Member             MemberRef
	Torrent            *TorrentRef
	CreditedUploaded   int64
	CreditedDownloaded int64
	BonusPoints        float64
	Reason             string
	Key                string
}

// Adjust applies a ledger adjustment once per key: a repeat of the same
// adjustment returns the first one's id with applied=false; the key with
// another adjustment is ErrConflict.
func (s *Service) Adjust(ctx context.Context, actor string, a Adjustment) (id int64, applied bool, err error) {
	if strings.TrimSpace(a.Key) == "" {
		return 0, false, fmt.Errorf("%w: an adjustment needs an idempotency key", ErrInvalid)
	}
	var uid, tid int64
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if uid, err = resolveMember(ctx, tx, a.Member); err != nil {
			return err
		}
		if a.Torrent != nil {
			if tid, err = resolveTorrent(ctx, tx, *a.Torrent); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	id, applied, err = ledger.Adjust(ctx, s.pool, ledger.Adjustment{UserID: uid, TorrentID: tid,
		CreditedUploaded: a.CreditedUploaded, CreditedDownloaded: a.CreditedDownloaded, BonusPoints: a.BonusPoints,
		Reason: a.Reason, Actor: actor, Key: a.Key})
	switch {
	case errors.Is(err, ledger.ErrKeyReused):
		return id, false, fmt.Errorf("%w: %v", ErrConflict, err)
	case errors.Is(err, ledger.ErrInvalidAdjustment), errors.Is(err, ledger.ErrNegative), errors.Is(err, ledger.ErrNoHistory):
		return 0, false, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return id, applied, err
}
