package detectors

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/testenv"
)

// Rows of three inviters: a seller (3 of 4 invitees reported, one of them
// twice), a popular inviter (2 of 20) and an inviter whose only invitee is
// reported (1 of 1, under min_bad_invitees).
func TestInviteFindingsCountAndShare(t *testing.T) {
	w := Window{From: until.Add(-time.Hour), Until: until}
	var rows []inviteRow
	add := func(inviter, invitee uint64, reports ...string) {
		base := inviteRow{Inviter: inviter, InviterName: fmt.Sprint("u", inviter), Invitee: invitee, InviteeName: fmt.Sprint("u", invitee), SiteShare: 0.02}
		if len(reports) == 0 {
			rows = append(rows, base)
		}
		for i, d := range reports {
			r := base
			r.ReportID, r.Detector, r.Status, r.Severity, r.Score = invitee*10+uint64(i), d, "open", "high", 0.8
			rows = append(rows, r)
		}
	}
	add(1, 10, "account_selling", "multi_ip")
	add(1, 11, "multi_ip")
	add(1, 12, "multi_ip")
	add(1, 13)
	for i := uint64(0); i < 18; i++ {
		add(2, 20+i)
	}
	add(2, 40, "multi_ip")
	add(2, 41, "account_selling")
	add(3, 50, "multi_ip")
	got := inviteFindings("invite_tree", rows, 2, inviteTreeMinShare, w)
	if len(got) != 1 || got[0].UserID != 1 || got[0].Magnitude != 3 || got[0].Score < DefaultConfig().ReportThreshold {
		t.Fatalf("findings %+v", got)
	}
	d := got[0].Evidence.Details
	bad := d["reported_invitees"].([]ReportedInvitee)
	if d["invitees"] != 4 || len(bad) != 3 || len(bad[0].Reports) != 2 || bad[0].Reports[1].Detector != "multi_ip" ||
		fmt.Sprint(d["unreported_invitees"]) != "[13]" || d["reported_share"] != 0.75 {
		t.Fatalf("evidence %+v", d)
	}
	if s := got[0].Evidence.Summary; !strings.Contains(s, "3 of the 4 members invited by u1 #1") || !strings.Contains(s, "u10 #10 (account_selling open, multi_ip open)") {
		t.Fatalf("summary %q", s)
	}
}

// On the real engines: multi_ip reports three of a seller's four invitees
// and two of a popular inviter's twelve; invite_tree reports the seller,
// not the popular inviter, stops counting an invitee once its report is
// dismissed, and finds reports whose subject is a passkey.
func TestInviteTreeFlagsSellerNotPopularInviter(t *testing.T) {
	ctx := context.Background()
	pg := testenv.Postgres(t)
	f := newFixture(t)
	user := func(name string, inviter int64) int64 {
		t.Helper()
		var id int64
		if err := pg.Pool.QueryRow(ctx, `INSERT INTO users (name, passkey, invited_by) VALUES ($1, md5($1), NULLIF($2, 0)) RETURNING id`,
			name, inviter).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	start := until.Add(-10 * time.Hour)
	honest := func(id int64) {
		f.session(session{user: uint64(id), torrent: uint64(id), peer: fmt.Sprint("-qB4620-h", id), ip: fmt.Sprintf("20.%d.1.7", id),
			start: start, n: 16, every: 30 * time.Minute, upRate: wobble(200e3)})
	}
	shared := func(id int64) {
		for j := 0; j < 3; j++ {
			f.session(session{user: uint64(id), torrent: uint64(100*id) + uint64(j), peer: fmt.Sprintf("-qB4620-s%d-%d", id, j),
				ip: fmt.Sprintf("%d.%d.1.7", 11+j, id), start: start.Add(time.Duration(j) * time.Second), n: 16, every: 30 * time.Minute, upRate: wobble(200e3)})
		}
	}
	seller := user("seller", 0)
	popular := user("popular", 0)
	honest(seller)
	honest(popular)
	// invite creates n invitees of inviter, the first nShared sharing their accounts.
	invite := func(inviter int64, prefix string, n, nShared int) (bad []int64) {
		for i := 0; i < n; i++ {
			id := user(fmt.Sprint(prefix, i), inviter)
			if i < nShared {
				shared(id)
				bad = append(bad, id)
			} else {
				honest(id)
			}
		}
		return bad
	}
	sold := invite(seller, "bought", 4, 3)
	crowd := invite(popular, "friend", 12, 2)
	f.write()

	r, err := NewRunner(ctx, DefaultConfig(), pg.Pool, f.env.CH, nil, []Detector{MultiIP{}, InviteTree{}})
	if err != nil {
		t.Fatal(err)
	}
	_, found, err := r.Pass(ctx, time.Time{}, until, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	flagged := map[string][]int64{}
	for _, x := range found {
		flagged[x.Detector] = append(flagged[x.Detector], int64(x.UserID))
	}
	if fmt.Sprint(flagged["multi_ip"]) != fmt.Sprint(append(append([]int64{}, sold...), crowd...)) {
		t.Fatalf("multi_ip flagged %v, want the shared invitees %v and %v", flagged["multi_ip"], sold, crowd)
	}
	if fmt.Sprint(flagged["invite_tree"]) != fmt.Sprint([]int64{seller}) {
		t.Fatalf("invite_tree flagged %v, want the seller %d only (popular inviter %d)", flagged["invite_tree"], seller, popular)
	}

	// The stored report names the inviter's reported invitees and why.
	var subject, summary string
	var evidence []byte
	if err := pg.Pool.QueryRow(ctx, `SELECT subject_id, evidence->>'summary', evidence->'details' FROM cheat_reports WHERE detector = 'invite_tree' AND status = 'open'`).
		Scan(&subject, &summary, &evidence); err != nil {
		t.Fatal(err)
	}
	var details struct {
		Invitees int               `json:"invitees"`
		Reported []ReportedInvitee `json:"reported_invitees"`
		Clean    []int64           `json:"unreported_invitees"`
	}
	if err := json.Unmarshal(evidence, &details); err != nil {
		t.Fatal(err)
	}
	if subject != fmt.Sprint(seller) || details.Invitees != 4 || len(details.Reported) != 3 || len(details.Clean) != 1 ||
		details.Reported[0].Reports[0].Detector != "multi_ip" || details.Reported[0].Reports[0].Summary == "" {
		t.Fatalf("stored report on %s: %s", subject, evidence)
	}
	if !strings.Contains(summary, "3 of the 4 members invited by seller") {
		t.Fatalf("summary %q", summary)
	}

	// Staff dismiss two of the three: one bad invitee is not enough.
	if _, err := pg.Pool.Exec(ctx, `UPDATE cheat_reports SET status = 'dismissed', reviewed_at = now()
		WHERE detector = 'multi_ip' AND subject_id = ANY($1)`, []string{fmt.Sprint(sold[0]), fmt.Sprint(sold[1])}); err != nil {
		t.Fatal(err)
	}
	w := Window{From: start, Until: until}
	got, err := InviteTree{}.Run(ctx, r.Env, w)
	if err != nil || len(got) != 0 {
		t.Fatalf("after dismissals: %+v, %v", got, err)
	}

	// A leaked-passkey report (its subject is the passkey) on the fourth
	// invitee makes two again.
	leak := userFinding("leaked_passkey", 0, w, []Signal{{Name: "x", Fired: true, Weight: 1, Strength: 1}}, 1, "leaked")
	leak.Kind = SubjectPasskey
	if err := pg.Pool.QueryRow(ctx, `SELECT passkey FROM users WHERE name = 'bought3'`).Scan(&leak.SubjectID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Store.Upsert(ctx, leak); err != nil {
		t.Fatal(err)
	}
	got, err = InviteTree{}.Run(ctx, r.Env, w)
	if err != nil || len(got) != 1 || got[0].UserID != uint64(seller) || got[0].Magnitude != 2 {
		t.Fatalf("with a passkey report: %+v, %v", got, err)
	}
}
