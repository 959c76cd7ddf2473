package control

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/internal/testenv"
)

func TestPromotionCheck(t *testing.T) {
	for _, p := range []Promotion{PromoNone, PromoFree, PromoNeutral, PromoDouble, {Name: "x", DownloadPercent: 50, UploadPercent: 1000}} {
		if err := p.Check(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
	for _, p := range []Promotion{{Name: "", DownloadPercent: 100, UploadPercent: 100}, {Name: "x", DownloadPercent: -1, UploadPercent: 100},
		{Name: "x", DownloadPercent: 101, UploadPercent: 100}, {Name: "x", DownloadPercent: 50, UploadPercent: 0}, {Name: "x", DownloadPercent: 0, UploadPercent: 1001}} {
		if err := p.Check(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v accepted: %v", p, err)
		}
	}
}

func TestErrorsAndHelpers(t *testing.T) {
	for err, code := range map[error]int{
		Invalidf("bad %d", 1):                 http.StatusBadRequest,
		fmt.Errorf("x: %w", ErrNotFound):      http.StatusNotFound,
		fmt.Errorf("x: %w", ErrConflict):      http.StatusConflict,
		errors.New("connection reset"):        http.StatusInternalServerError,
		fmt.Errorf("wrapped: %w", ErrInvalid): http.StatusBadRequest,
	} {
		if got := HTTPStatus(err); got != code {
			t.Errorf("%v: %d, want %d", err, got, code)
		}
	}
	if c := Clip(strings.Repeat("x", 50)); len(c) != 40+len("…") {
		t.Errorf("Clip: %q", c)
	}
	if !exactlyOne(false, true, false) || exactlyOne(true, true) || exactlyOne() {
		t.Error("exactlyOne")
	}
	if err := CheckPasskey("0123456789abcdefABCDEF0123456789"); err != nil {
		t.Error(err)
	}
	if err := CheckPasskey("0123456789abcdef0123456789abcde!"); !errors.Is(err, ErrInvalid) {
		t.Error("bad passkey accepted")
	}
}

func newService(t *testing.T) (*Service, testenv.PG) {
	pg := testenv.Postgres(t)
	return New(pg.Pool, nil, slog.New(slog.NewTextHandler(io.Discard, nil))), pg
}

// Members are registered by site id, their passkeys change, removal and
// restoration only touch what the site did; refs must name one member.
func TestMembers(t *testing.T) {
	s, pg := newService(t)
	ctx := context.Background()
	const pk1, pk2 = "11111111111111111111111111111111", "22222222222222222222222222222222"
	m, created, err := s.PutMember(ctx, "t", MemberInput{SiteID: 7, Passkey: pk1})
	if err != nil || !created || m.Name != "site-7" || m.Class != "member" || !m.CanLeech || *m.SiteID != 7 {
		t.Fatalf("%+v %v %v", m, created, err)
	}
	if _, created, err := s.PutMember(ctx, "t", MemberInput{SiteID: 7, Passkey: pk2}); err != nil || created {
		t.Fatalf("second put: %v %v", created, err)
	}
	if _, err := s.Member(ctx, MemberRef{Passkey: pk1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old passkey still names the member: %v", err)
	}
	// Enforcement's disable survives the site adding the member again.
	off, why := false, "disabled by staff"
	if _, err := s.UpdateMember(ctx, "staff", MemberRef{SiteID: 7}, MemberPatch{Enabled: &off, DisabledReason: &why}); err != nil {
		t.Fatal(err)
	}
	if m, _, _ := s.PutMember(ctx, "t", MemberInput{SiteID: 7, Passkey: pk2}); m.Enabled {
		t.Fatal("add_user re-enabled a member staff disabled")
	}
	on := true
	if _, err := s.UpdateMember(ctx, "staff", MemberRef{SiteID: 7}, MemberPatch{Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveMember(ctx, "t", MemberRef{SiteID: 7}); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Member(ctx, MemberRef{SiteID: 7}); m.Enabled || m.DisabledReason != RemovedReason {
		t.Fatalf("removed: %+v", m)
	}
	if m, _, _ := s.PutMember(ctx, "t", MemberInput{SiteID: 7, Passkey: pk2}); !m.Enabled || m.DisabledReason != "" {
		t.Fatalf("restored: %+v", m)
	}
	// An imported member (no site id) is adopted by its passkey.
	if _, err := pg.Pool.Exec(ctx, `INSERT INTO users (name, passkey) VALUES ('imported', $1)`, pk1); err != nil {
		t.Fatal(err)
	}
	if m, created, err := s.PutMember(ctx, "t", MemberInput{SiteID: 8, Passkey: pk1}); err != nil || created || m.Name != "imported" {
		t.Fatalf("adopt: %+v %v %v", m, created, err)
	}
	for _, ref := range []MemberRef{{}, {ID: 1, SiteID: 7}} {
		if _, err := s.Member(ctx, ref); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v", ref, err)
		}
	}
	if _, _, err := s.PutMember(ctx, "t", MemberInput{SiteID: 9, Passkey: pk1}); !errors.Is(err, ErrConflict) {
		t.Fatalf("a passkey another member holds: %v", err)
	}
}

// A group's slug change renames its class and its members; members put
// before their group was known join it.
func TestClassesFollowGroups(t *testing.T) {
	s, pg := newService(t)
	ctx := context.Background()
	g5 := GroupClass(5)
	if _, _, err := s.PutMember(ctx, "t", MemberInput{SiteID: 1, Passkey: "11111111111111111111111111111111", Class: &g5}); err != nil {
		t.Fatal(err)
	}
	gid := int64(5)
	if err := s.PutClass(ctx, "t", Class{Name: "user", SiteGroupID: &gid, DownloadPercent: 100, UploadPercent: 100}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutClass(ctx, "t", Class{Name: "member-plus", SiteGroupID: &gid, DownloadPercent: 0, UploadPercent: 200}); err != nil {
		t.Fatal(err)
	}
	var class string
	if err := pg.Pool.QueryRow(ctx, `SELECT class FROM users WHERE site_id = 1`).Scan(&class); err != nil || class != "member-plus" {
		t.Fatalf("member's class %q %v", class, err)
	}
	if name, err := s.ClassOfGroup(ctx, 5); err != nil || name != "member-plus" {
		t.Fatalf("ClassOfGroup %q %v", name, err)
	}
	if err := s.PutClass(ctx, "t", Class{Name: "x", DownloadPercent: 0, UploadPercent: 0}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("neutral class: %v", err)
	}
	if err := s.DeleteClass(ctx, "t", "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete unknown class: %v", err)
	}
}

// Adjustments apply once per key; the key with another adjustment is a
// conflict and changes nothing.
func TestAdjustOncePerKey(t *testing.T) {
	s, pg := newService(t)
	ctx := context.Background()
	if _, _, err := s.PutMember(ctx, "t", MemberInput{SiteID: 1, Passkey: "11111111111111111111111111111111"}); err != nil {
		t.Fatal(err)
	}
	a := Adjustment{Member: MemberRef{SiteID: 1}, CreditedUploaded: 1000, Reason: "bonus purchase", Key: "order-1"}
	id, applied, err := s.Adjust(ctx, "shop", a)
	if err != nil || !applied {
		t.Fatalf("first: %d %v %v", id, applied, err)
	}
	id2, applied, err := s.Adjust(ctx, "shop", a)
	if err != nil || applied || id2 != id {
		t.Fatalf("repeat: %d %v %v", id2, applied, err)
	}
	b := a
	b.CreditedUploaded = 5
	if _, _, err := s.Adjust(ctx, "shop", b); !errors.Is(err, ErrConflict) {
		t.Fatalf("key reused for another adjustment: %v", err)
	}
	var up int64
	if err := pg.Pool.QueryRow(ctx, `SELECT credited_uploaded::bigint FROM ledger_user_totals`).Scan(&up); err != nil || up != 1000 {
		t.Fatalf("credited %d %v", up, err)
	}
	a.Key = ""
	if _, _, err := s.Adjust(ctx, "shop", a); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no key: %v", err)
	}
	c := Adjustment{Member: MemberRef{SiteID: 1}, CreditedUploaded: -5000, Reason: "correction", Key: "fix-1"}
	if _, _, err := s.Adjust(ctx, "staff", c); !errors.Is(err, ErrInvalid) {
		t.Fatalf("negative total: %v", err)
	}
}

// Tokens that end on completion (Gazelle's) are deleted once the ledger has
// seen the holder with nothing left after the token was given; others stay.
func TestExpireTokensAtCompletion(t *testing.T) {
	s, pg := newService(t)
	ctx := context.Background()
	for i, pk := range []string{"11111111111111111111111111111111", "22222222222222222222222222222222"} {
		if _, _, err := s.PutMember(ctx, "t", MemberInput{SiteID: int64(i + 1), Passkey: pk}); err != nil {
			t.Fatal(err)
		}
	}
	ih := make([]byte, 20)
	if _, _, err := s.PutTorrent(ctx, "t", TorrentInput{SiteID: 9, InfoHash: ih, Size: -1}); err != nil {
		t.Fatal(err)
	}
	tor := TorrentRef{SiteID: 9}
	if err := s.AddToken(ctx, "t", MemberRef{SiteID: 1}, tor, true); err != nil {
		t.Fatal(err)
	}
	if err := s.AddToken(ctx, "t", MemberRef{SiteID: 2}, tor, false); err != nil {
		t.Fatal(err)
	}
	ledger := func(site int64, left int64) {
		t.Helper()
		_, err := pg.Pool.Exec(ctx, `INSERT INTO ledger_user_torrents (user_id, torrent_id, first_announce_at, last_announce_at, last_left)
			SELECT u.id, t.id, now(), now(), $2 FROM users u, torrents t WHERE u.site_id = $1 AND t.site_id = 9
			ON CONFLICT (user_id, torrent_id) DO UPDATE SET last_left = EXCLUDED.last_left, last_announce_at = now()`, site, left)
		if err != nil {
			t.Fatal(err)
		}
	}
	tokens := func() int {
		var n int
		if err := pg.Pool.QueryRow(ctx, `SELECT count(*) FROM freeleech_tokens`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	ledger(1, 500) // still leeching
	ledger(2, 0)
	if n, err := s.ExpireTokens(ctx); err != nil || n != 0 || tokens() != 2 {
		t.Fatalf("while leeching: expired %d (%v), %d left", n, err, tokens())
	}
	ledger(1, 0) // completed
	if n, err := s.ExpireTokens(ctx); err != nil || n != 1 || tokens() != 1 {
		t.Fatalf("after completion: expired %d (%v), %d left", n, err, tokens())
	}
	var audited int
	if err := pg.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'control.token.expire'`).Scan(&audited); err != nil || audited != 1 {
		t.Fatalf("%d expiries audited (%v)", audited, err)
	}
}
