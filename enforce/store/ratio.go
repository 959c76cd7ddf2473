package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ratioguard/ratioguard/enforce/rules"
)

// RatioChange moves a member through the ratio watch.
type RatioChange struct {
	Member   Member
	Decision rules.RatioDecision
	EndsAt   time.Time // for WatchStart: when the watch runs out
	// LeechNote is the planner's forecast of the leeching flip ("" if none).
	LeechNote string
}

// ratioFigures is the audit/dry-run view of the figures.
type ratioFigures struct {
	Uploaded   float64          `json:"credited_uploaded"`
	Downloaded float64          `json:"credited_downloaded"`
	Ratio      *float64         `json:"ratio"` // null: nothing downloaded
	Required   float64          `json:"required_ratio"`
	Snatches   int              `json:"snatches"`
	Seeded     int              `json:"seeded_last_week"`
	Watch      rules.WatchState `json:"watch_state"`
	WatchEnds  *time.Time       `json:"watch_ends_at,omitempty"`
	Leech      *LeechState      `json:"leech,omitempty"`
}

func (c RatioChange) figures(state rules.WatchState, ends time.Time) ratioFigures {
	f := ratioFigures{Uploaded: c.Member.Uploaded, Downloaded: c.Member.Downloaded, Required: c.Decision.Required,
		Snatches: c.Member.Snatches, Seeded: c.Member.Seeded, Watch: state}
	if r := c.Decision.Ratio; c.Member.Downloaded > 0 {
		f.Ratio = &r
	}
	if state != rules.WatchNone && !ends.IsZero() {
		f.WatchEnds = &ends
	}
	return f
}

// Rows implements Change.
func (c RatioChange) Rows() []Row {
	m := c.Member
	cur := fmt.Sprintf("ratio %s, required %.2f, downloaded %s, seeded %d/%d",
		FormatRatio(c.Decision.Ratio), c.Decision.Required, FormatBytes(m.Downloaded), m.Seeded, m.Snatches)
	if m.Watch.State != rules.WatchNone {
		cur += fmt.Sprintf(", %s until %s", m.Watch.State, m.Watch.EndsAt.UTC().Format(time.DateOnly))
	}
	var planned string
	switch c.Decision.Action {
	case rules.WatchStart:
		planned = "ratio watch until " + c.EndsAt.UTC().Format(time.DateTime)
	case rules.WatchClear:
		planned = "ratio watch cleared (back above the requirement)"
	case rules.WatchRestore:
		planned = "ratio block lifted (back above the requirement)"
	case rules.WatchClearExempt:
		planned = "ratio watch cleared (class " + m.Class + " is exempt)"
	case rules.WatchDisableDownload:
		planned = fmt.Sprintf("ratio block: downloaded %s during watch", FormatBytes(m.Downloaded-m.Watch.DownloadedAtStart))
	case rules.WatchDisableExpired:
		planned = "ratio block: watch expired below the requirement"
	}
	if c.LeechNote != "" {
		planned += "; " + c.LeechNote
	}
	return []Row{{UserID: m.ID, Member: m.Name, Rule: "ratio", Current: cur, Planned: planned}}
}

func (c RatioChange) apply(ctx context.Context, tx pgx.Tx, a *applier) ([]Audit, error) {
	m, d := c.Member, c.Decision
	before := c.figures(m.Watch.State, m.Watch.EndsAt)
	after := before
	var reason string
	var tag interface{ RowsAffected() int64 }
	var err error
	switch d.Action {
	case rules.WatchStart:
		reason = fmt.Sprintf("ratio %s below required %.2f", FormatRatio(d.Ratio), d.Required)
		tag, err = tx.Exec(ctx, `INSERT INTO enforce_ratio_watch (user_id, state, started_at, ends_at, downloaded_at_start, required_ratio)
			VALUES ($1, 'watch', $2, $3, $4, $5) ON CONFLICT (user_id) DO NOTHING`, m.ID, a.now, c.EndsAt, m.Downloaded, d.Required)
		after.Watch, after.WatchEnds = rules.WatchActive, &c.EndsAt
	case rules.WatchClear, rules.WatchRestore, rules.WatchClearExempt:
		reason = fmt.Sprintf("ratio %s back at or above required %.2f", FormatRatio(d.Ratio), d.Required)
		if d.Action == rules.WatchClearExempt {
			reason = "class " + m.Class + " is exempt from the ratio rule"
		}
		tag, err = tx.Exec(ctx, `DELETE FROM enforce_ratio_watch WHERE user_id = $1 AND state = $2`, m.ID, string(m.Watch.State))
		after.Watch, after.WatchEnds = rules.WatchNone, nil
	case rules.WatchDisableDownload, rules.WatchDisableExpired:
		reason = fmt.Sprintf("watch expired with ratio %s below required %.2f", FormatRatio(d.Ratio), d.Required)
		if d.Action == rules.WatchDisableDownload {
			reason = fmt.Sprintf("downloaded %s during ratio watch (limit %g GiB) with ratio %s below required %.2f",
				FormatBytes(m.Downloaded-m.Watch.DownloadedAtStart), a.s.cfg.Ratio.WatchDownloadLimitGiB, FormatRatio(d.Ratio), d.Required)
		}
		tag, err = tx.Exec(ctx, `UPDATE enforce_ratio_watch SET state = 'disabled', disabled_at = $2, disabled_cause = $3
			WHERE user_id = $1 AND state = 'watch'`, m.ID, a.now, string(d.Action))
		after.Watch = rules.WatchDisabled
	default:
		return nil, fmt.Errorf("ratio change for user %d: unknown action %q", m.ID, d.Action)
	}
	if err != nil {
		return nil, fmt.Errorf("ratio watch %s for user %d: %w", d.Action, m.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return nil, nil // already done
	}
	lb, la, err := a.syncLeech(ctx, tx, m.ID)
	if err != nil {
		return nil, err
	}
	before.Leech, after.Leech = &lb, &la
	return []Audit{userAudit(ActorRatio, "ratio_watch."+string(d.Action), m.ID, reason, before, after)}, nil
}
