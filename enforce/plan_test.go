package enforce

import (
	"strings"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/enforce/rules"
	"github.com/ratioguard/ratioguard/enforce/store"
)

func rowsOf(changes []store.Change) []store.Row {
	var out []store.Row
	for _, c := range changes {
		out = append(out, c.Rows()...)
	}
	return out
}

// A verdict's credit reversal is seen by the ratio rule of the same pass,
// and a verdict's leech block plus a ratio block disable leeching once.
func TestPlanOrdersVerdictsBeforeRatio(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	uid := int64(7)
	snap := &store.Snapshot{
		Members: []store.Member{{ID: uid, Name: "x", Class: "member", Enabled: true, CanLeech: true,
			Uploaded: 20 * rules.GiB, Downloaded: 25 * rules.GiB, Snatches: 1}},
		Reports: []store.Report{{ID: 3, Detector: "faked_upload", SubjectKind: "user", Verdict: []string{"reverse_credit", "disable_leech"},
			ReverseUploaded: ptr(int64(19 * rules.GiB)), UserID: &uid, Member: "x"}},
	}
	rows := rowsOf(Plan(snap, rules.Default(), now))
	if len(rows) != 3 {
		t.Fatalf("rows %+v", rows)
	}
	if rows[1].Rule != "verdict/disable_leech" || !strings.Contains(rows[1].Planned, "leeching disabled") {
		t.Fatalf("verdict row %+v", rows[1])
	}
	if rows[2].Rule != "ratio" || !strings.Contains(rows[2].Current, "ratio 0.040") || strings.Contains(rows[2].Planned, "leeching") {
		t.Fatalf("ratio row %+v", rows[2])
	}
}

// A hold whose blocks are all gone is released; a member held by nothing
// and blocked by nothing is left alone; disabled accounts earn no bonus.
func TestPlanLeechLeftoversAndBonus(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	snap := &store.Snapshot{
		Members: []store.Member{
			{ID: 1, Name: "held", Enabled: true, CanLeech: false, Held: true},
			{ID: 2, Name: "fine", Enabled: true, CanLeech: true},
			{ID: 3, Name: "off", Enabled: false, CanLeech: true},
		},
		Seeding: []store.Seeding{
			{UserID: 2, Member: "fine", TorrentID: 1, Size: rules.GiB, Seedtime: 7200 + 100, Seeders: 1},
			{UserID: 2, Member: "fine", TorrentID: 2, Size: rules.GiB, Seedtime: 3599, Seeders: 1},
			{UserID: 3, Member: "off", TorrentID: 1, Size: rules.GiB, Seedtime: 7200, Seeders: 1},
		},
	}
	changes := Plan(snap, rules.Default(), now)
	if len(changes) != 2 {
		t.Fatalf("changes %+v", rowsOf(changes))
	}
	if s, ok := changes[0].(store.LeechSync); !ok || s.UserID != 1 {
		t.Fatalf("first change %#v", changes[0])
	}
	b, ok := changes[1].(store.BonusAccrual)
	if !ok || b.UserID != 2 || len(b.Items) != 1 || b.Items[0].Hours != 2 || b.Items[0].To != 7200 || b.Total != 6 {
		t.Fatalf("bonus %#v", changes[1])
	}
}

func ptr[T any](v T) *T { return &v }
