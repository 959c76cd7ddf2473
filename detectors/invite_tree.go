package detectors

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// InviteTree flags inviters whose invitees are repeatedly reported for
// sharing or selling their accounts — only verdicts count: reports staff
// confirmed (and open ones at the severities invite_tree.count_open names,
// none by default: an automated suspicion never begets another) — at least
// min_bad_invitees of them, a large share of all their invitees (a popular
// inviter with a crowd of honest invitees and one or two bad ones is not
// reported), and more than chance gives: the probability of so many bad
// invitees at the site's share of bad invitees is at most max_chance.
type InviteTree struct{}

// inviteTreeMinShare is the share of an inviter's invitees that must be
// reported (the site's share of reported invitees is around 1–3 %).
const inviteTreeMinShare = 0.25

// inviteTreeMinSiteShare floors the site's share of bad invitees in the
// chance test: a site with almost no reports yet would make any two bad
// invitees look unlikely.
const inviteTreeMinSiteShare = 0.01

// inviteTreeListed caps the unreported invitees listed in the evidence.
const inviteTreeListed = 50

// Name implements Detector.
func (InviteTree) Name() string { return "invite_tree" }

// Lookback implements Detector.
func (InviteTree) Lookback(c *Config) time.Duration { return c.AccountSelling.Recent.Duration }

// Doc implements Detector.
func (InviteTree) Doc() Doc {
	return Doc{
		Title:   "Invite trees",
		Catches: "inviters selling or handing out accounts through invites",
		Signals: []string{
			"invitees with a multi_ip, account_selling or leaked_passkey report staff confirmed — or open at a severity count_open names (none by default: an unreviewed report is itself in doubt, and an inviter is accused on verdicts, not on other detectors' guesses) — at least min_bad_invitees",
			fmt.Sprintf("those invitees' share of all the inviter's invitees, at least %.0f%% (the site's share is in the evidence)", 100*inviteTreeMinShare),
			fmt.Sprintf("chance: the binomial probability of at least that many bad invitees among the inviter's invitees at the site's share of bad invitees (at least %.0f%%), at most max_chance (weight 0.5; required)", 100*inviteTreeMinSiteShare),
		},
		LookAlikes: "invitees merely suspected (open reports) are not enough by default; one bad invitee is not enough; a popular inviter with many honest invitees and a couple of bad ones stays under the share; a small inviter with two bad invitees out of three by coincidence stays above max_chance; a household inviting its own members is not reported unless they are; dismissed reports and doubtful ones (open, low or medium) do not count",
	}
}

// inviteTreeSources are the detectors whose reports mark a bad invitee.
var inviteTreeSources = []string{"multi_ip", "account_selling", "leaked_passkey"}

// inviteRow is one row of pg_invite_tree: an invitee and one of its bad
// reports (ReportID 0 for an invitee without one).
type inviteRow struct {
	Inviter     uint64
	InviterName string
	Invitee     uint64
	InviteeName string
	ReportID    uint64
	Detector    string
	Status      string
	Severity    string
	Score       float64
	Summary     string
	SiteShare   float64
}

// InviteeReport is one report that makes an invitee bad.
type InviteeReport struct {
	ReportID uint64  `json:"report_id"`
	Detector string  `json:"detector"`
	Status   string  `json:"status"`
	Severity string  `json:"severity"`
	Score    float64 `json:"score"`
	Summary  string  `json:"summary"`
}

// ReportedInvitee is an invitee with its sharing or selling reports.
type ReportedInvitee struct {
	UserID  uint64          `json:"user_id"`
	Name    string          `json:"name"`
	Reports []InviteeReport `json:"reports"`
}

// Run implements Detector.
func (d InviteTree) Run(ctx context.Context, env *Env, w Window) ([]Finding, error) {
	if env.PG == nil {
		return nil, nil
	}
	c := env.Config.InviteTree
	minBad := c.MinBadInvitees
	countOpen := append([]string{}, c.CountOpen...)
	rows, err := env.PG.Query(ctx, sqlText("pg_invite_tree"), inviteTreeSources, minBad, countOpen)
	if err != nil {
		return nil, fmt.Errorf("read invite trees: %w", err)
	}
	defer rows.Close()
	var in []inviteRow
	for rows.Next() {
		var r inviteRow
		var inviter, invitee int64
		var report *int64
		var det, status, sev, summary *string
		var score *float64
		if err := rows.Scan(&inviter, &r.InviterName, &invitee, &r.InviteeName, &report, &det, &status, &sev, &score, &summary, &r.SiteShare); err != nil {
			return nil, fmt.Errorf("scan invite tree: %w", err)
		}
		r.Inviter, r.Invitee = uint64(inviter), uint64(invitee)
		if report != nil {
			r.ReportID, r.Detector, r.Status, r.Severity, r.Score, r.Summary = uint64(*report), *det, *status, *sev, *score, *summary
		}
		in = append(in, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read invite trees: %w", err)
	}
	return inviteFindings(d.Name(), in, minBad, inviteTreeMinShare, c.MaxChance, w), nil
}

// inviteFindings groups the rows (ordered by inviter, then invitee) into one
// finding per inviter with at least minBad reported invitees making up at
// least minShare of its invitees, more than chance gives (maxChance).
func inviteFindings(name string, rows []inviteRow, minBad int, minShare, maxChance float64, w Window) []Finding {
	var out []Finding
	for len(rows) > 0 {
		n := 1
		for n < len(rows) && rows[n].Inviter == rows[0].Inviter {
			n++
		}
		if f, ok := inviteFinding(name, rows[:n], minBad, minShare, maxChance, w); ok {
			out = append(out, f)
		}
		rows = rows[n:]
	}
	return out
}

// inviteFinding is the verdict on one inviter's rows.
func inviteFinding(name string, rows []inviteRow, minBad int, minShare, maxChance float64, w Window) (Finding, bool) {
	var bad []ReportedInvitee
	var clean []uint64
	invitees := 0
	for i, r := range rows {
		first := i == 0 || rows[i-1].Invitee != r.Invitee
		if first {
			invitees++
		}
		switch {
		case r.ReportID == 0:
			clean = append(clean, r.Invitee)
		case first:
			bad = append(bad, ReportedInvitee{UserID: r.Invitee, Name: r.InviteeName})
			fallthrough
		default:
			last := &bad[len(bad)-1]
			last.Reports = append(last.Reports, InviteeReport{ReportID: r.ReportID, Detector: r.Detector,
				Status: r.Status, Severity: r.Severity, Score: r.Score, Summary: r.Summary})
		}
	}
	share := float64(len(bad)) / float64(invitees)
	site := rows[0].SiteShare
	chance := binomialTail(invitees, len(bad), math.Max(site, inviteTreeMinSiteShare))
	sig := []Signal{
		signal("reported_invitees", float64(len(bad)), float64(minBad), 0.9, "members",
			"invitees with a confirmed, or open high or critical, "+strings.Join(inviteTreeSources, ", ")+" report"),
		signal("reported_share", share, minShare, 0.6, "fraction",
			fmt.Sprintf("%d of %d invitees; %.1f%% of all invited members site-wide", len(bad), invitees, 100*site)),
		{Name: "chance_probability", Value: chance, Threshold: maxChance, Unit: "probability", Weight: 0.5,
			Strength: strengthBelow(chance, maxChance), Fired: chance <= maxChance,
			Note: fmt.Sprintf("probability of %d or more bad invitees among %d at the site's share %.1f%% (floored at %.0f%%)", len(bad), invitees, 100*site, 100*inviteTreeMinSiteShare)},
	}
	if !sig[0].Fired || !sig[1].Fired || !sig[2].Fired {
		return Finding{}, false
	}
	inviter := rows[0].Inviter
	parts := make([]string, 0, min(len(bad), 5))
	for _, b := range bad[:min(len(bad), 5)] {
		var dets []string
		for _, r := range b.Reports {
			dets = append(dets, r.Detector+" "+r.Status)
		}
		parts = append(parts, fmt.Sprintf("%s #%d (%s)", b.Name, b.UserID, strings.Join(dets, ", ")))
	}
	if len(bad) > len(parts) {
		parts = append(parts, fmt.Sprintf("and %d more", len(bad)-len(parts)))
	}
	f := userFinding(name, inviter, w, sig, float64(len(bad)),
		fmt.Sprintf("%d of the %d members invited by %s #%d (%.0f%%, site-wide %.1f%%; by chance %.1g) have confirmed or high-severity sharing/selling reports: %s",
			len(bad), invitees, rows[0].InviterName, inviter, 100*share, 100*site, chance, strings.Join(parts, "; ")))
	if len(clean) > inviteTreeListed {
		clean = clean[:inviteTreeListed]
	}
	f.Evidence.Details = map[string]any{
		"inviter":             map[string]any{"user_id": inviter, "name": rows[0].InviterName},
		"invitees":            invitees,
		"reported_invitees":   bad,
		"unreported_invitees": clean,
		"reported_share":      share,
		"site_reported_share": site,
		"chance_probability":  chance,
		"report_sources":      inviteTreeSources,
	}
	return f, true
}

// binomialTail is P(X >= k) for X ~ Binomial(n, p).
func binomialTail(n, k int, p float64) float64 {
	if k <= 0 {
		return 1
	}
	if k > n || p <= 0 {
		return 0
	}
	if p >= 1 {
		return 1
	}
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	var sum float64
	for j := k; j <= n; j++ {
		sum += math.Exp(lg(n) - lg(j) - lg(n-j) + float64(j)*math.Log(p) + float64(n-j)*math.Log1p(-p))
	}
	return math.Min(1, sum)
}
