package control

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ReportSecret is one of NexusPHP's tracker report secrets of a member:
// announce.php?authkey=TORRENT|USER|HASH is the member's when HASH is a
// Hashids hash under the secret for TORRENT (the site's torrent id), else
// under the one for every torrent (TorrentSiteID 0).
type ReportSecret struct {
	TorrentSiteID int64  `json:"torrent_site_id"`
	Secret        string `json:"secret"`
	// Replace removes the member's other secrets first, as NexusPHP's
	// resetTrackerReportAuthKeySecret does for its secret of every torrent.
	Replace bool `json:"replace"`
}

// SetReportSecret stores a member's report secret. The secret is not
// written to the audit log.
func (s *Service) SetReportSecret(ctx context.Context, actor string, r MemberRef, rs ReportSecret) error {
	if rs.TorrentSiteID < 0 {
		return Invalidf("torrent_site_id %d is negative (0: every torrent)", rs.TorrentSiteID)
	}
	if rs.Secret == "" || len(rs.Secret) > 255 {
		return Invalidf("secret is %d bytes: 1 to 255", len(rs.Secret))
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		id, err := resolveMember(ctx, tx, r)
		if err != nil {
			return err
		}
		if rs.Replace {
			if _, err := tx.Exec(ctx, query("remove_report_secrets"), id); err != nil {
				return fmt.Errorf("replace report secrets of %s: %w", r, err)
			}
		}
		if _, err := tx.Exec(ctx, query("set_report_secret"), id, rs.TorrentSiteID, rs.Secret); err != nil {
			return fmt.Errorf("report secret of %s: %w", r, classify(err))
		}
		return audit(ctx, tx, actor, "control.report_secret.set", "user", id, "",
			map[string]any{"torrent_site_id": rs.TorrentSiteID, "replace": rs.Replace})
	})
}

// RemoveReportSecrets removes every report secret of the member (none: no
// error): its authkeys are refused from then on.
func (s *Service) RemoveReportSecrets(ctx context.Context, actor string, r MemberRef) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		id, err := resolveMember(ctx, tx, r)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, query("remove_report_secrets"), id); err != nil {
			return fmt.Errorf("remove report secrets of %s: %w", r, err)
		}
		return audit(ctx, tx, actor, "control.report_secret.remove", "user", id, "", nil)
	})
}
