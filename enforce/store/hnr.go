package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// HnRWarn issues a hit-and-run warning for one snatch.
type HnRWarn struct {
	Candidate Candidate
	Deadline  time.Time
	ExpiresAt time.Time
	LeechNote string
}

// Rows implements Change.
func (c HnRWarn) Rows() []Row {
	s := c.Candidate
	planned := "hit-and-run warning until " + c.ExpiresAt.UTC().Format(time.DateOnly)
	if c.LeechNote != "" {
		planned += "; " + c.LeechNote
	}
	return []Row{{UserID: s.UserID, Member: s.Member, Rule: "hnr",
		Current: fmt.Sprintf("torrent %d %q: downloaded %s of %s, seeded %s by deadline %s", s.TorrentID, s.Torrent,
			FormatBytes(s.Downloaded), FormatBytes(float64(s.TorrentSize)), s.Seedtime.Round(time.Minute), c.Deadline.UTC().Format(time.DateOnly)),
		Planned: planned}}
}

type hnrFigures struct {
	TorrentID  int64       `json:"torrent_id"`
	Downloaded float64     `json:"raw_downloaded"`
	Size       int64       `json:"torrent_size"`
	Seedtime   int64       `json:"seedtime_seconds"`
	Warning    *int64      `json:"warning_id"`
	Lifted     string      `json:"lifted,omitempty"`
	Leech      *LeechState `json:"leech,omitempty"`
}

func (c HnRWarn) apply(ctx context.Context, tx pgx.Tx, a *applier) ([]Audit, error) {
	s := c.Candidate
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO enforce_hnr_warnings (user_id, torrent_id, issued_at, deadline, expires_at, seedtime_seconds)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, torrent_id) DO NOTHING RETURNING id`,
		s.UserID, s.TorrentID, a.now, c.Deadline, c.ExpiresAt, int64(s.Seedtime.Seconds())).Scan(&id)
	if err == pgx.ErrNoRows {
		return nil, nil // already warned
	}
	if err != nil {
		return nil, fmt.Errorf("issue hit-and-run warning user %d torrent %d: %w", s.UserID, s.TorrentID, err)
	}
	before := hnrFigures{TorrentID: s.TorrentID, Downloaded: s.Downloaded, Size: s.TorrentSize, Seedtime: int64(s.Seedtime.Seconds())}
	after := before
	after.Warning = &id
	lb, la, err := a.syncLeech(ctx, tx, s.UserID)
	if err != nil {
		return nil, err
	}
	before.Leech, after.Leech = &lb, &la
	reason := fmt.Sprintf("snatched torrent %d but seeded %s of the required %s by %s", s.TorrentID,
		s.Seedtime.Round(time.Minute), a.s.cfg.HnR.SeedTime(), c.Deadline.UTC().Format(time.DateTime))
	return []Audit{userAudit(ActorHnR, "hnr.warn", s.UserID, reason, before, after)}, nil
}

// HnRLift ends an active warning: it expired, or the member seeded enough.
type HnRLift struct {
	Warning   Warning
	Reason    string // "expired" or "seeded"
	LeechNote string
}

// Rows implements Change.
func (c HnRLift) Rows() []Row {
	w := c.Warning
	planned := "hit-and-run warning lifted (" + c.Reason + ")"
	if c.LeechNote != "" {
		planned += "; " + c.LeechNote
	}
	return []Row{{UserID: w.UserID, Member: w.Member, Rule: "hnr",
		Current: fmt.Sprintf("warning #%d on torrent %d %q, expires %s, seeded %s", w.ID, w.TorrentID, w.Torrent,
			w.ExpiresAt.UTC().Format(time.DateOnly), w.Seedtime.Round(time.Minute)),
		Planned: planned}}
}

func (c HnRLift) apply(ctx context.Context, tx pgx.Tx, a *applier) ([]Audit, error) {
	w := c.Warning
	tag, err := tx.Exec(ctx, `UPDATE enforce_hnr_warnings SET lifted_at = $2, lifted_reason = $3
		WHERE id = $1 AND lifted_at IS NULL`, w.ID, a.now, c.Reason)
	if err != nil {
		return nil, fmt.Errorf("lift hit-and-run warning %d: %w", w.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return nil, nil
	}
	id := w.ID
	before := hnrFigures{TorrentID: w.TorrentID, Seedtime: int64(w.Seedtime.Seconds()), Warning: &id}
	after := before
	after.Lifted = c.Reason
	lb, la, err := a.syncLeech(ctx, tx, w.UserID)
	if err != nil {
		return nil, err
	}
	before.Leech, after.Leech = &lb, &la
	return []Audit{userAudit(ActorHnR, "hnr.lift", w.UserID, "warning "+c.Reason, before, after)}, nil
}
