package detectors

import (
	"context"
	"fmt"
	"time"
)

// InviteTree flags inviters whose invitees are repeatedly reported for
// sharing or selling their accounts (open or confirmed reports).
type InviteTree struct{}

// Name implements Detector.
func (InviteTree) Name() string { return "invite_tree" }

// Lookback implements Detector.
func (InviteTree) Lookback(c *Config) time.Duration { return c.AccountSelling.Recent.Duration }

// Doc implements Detector.
func (InviteTree) Doc() Doc {
	return Doc{
		Title:      "Invite trees",
		Catches:    "inviters selling or handing out accounts through invites",
		Signals:    []string{"invitees with an open or confirmed multi_ip, account_selling or leaked_passkey report, at least min_bad_invitees"},
		LookAlikes: "one bad invitee is not enough; dismissed reports do not count",
	}
}

// inviteTreeSources are the detectors whose reports mark a bad invitee.
var inviteTreeSources = []string{"multi_ip", "account_selling", "leaked_passkey"}

// Run implements Detector.
func (d InviteTree) Run(ctx context.Context, env *Env, w Window) ([]Finding, error) {
	if env.PG == nil {
		return nil, nil
	}
	minBad := env.Config.InviteTree.MinBadInvitees
	rows, err := env.PG.Query(ctx, sqlText("pg_invite_tree"), inviteTreeSources, minBad)
	if err != nil {
		return nil, fmt.Errorf("read invite trees: %w", err)
	}
	defer rows.Close()
	var out []Finding
	for rows.Next() {
		var inviter, n int64
		var invitees []int64
		if err := rows.Scan(&inviter, &n, &invitees); err != nil {
			return nil, fmt.Errorf("scan invite tree: %w", err)
		}
		sig := []Signal{signal("reported_invitees", float64(n), float64(minBad), 0.9, "members", fmt.Sprintf("invitees %v", invitees))}
		f := userFinding(d.Name(), uint64(inviter), w, sig, float64(n),
			fmt.Sprintf("%d members invited by %d have open or confirmed sharing/selling reports", n, inviter))
		f.Evidence.Details = map[string]any{"invitees": invitees}
		out = append(out, f)
	}
	return out, rows.Err()
}
