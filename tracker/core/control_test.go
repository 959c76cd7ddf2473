package core_test

import (
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/policy"
)

// The promotion levels a site drives: class, personal freeleech, freeleech
// token, featured-style torrent promotions, the site-wide window, and
// neutral leech overriding them all. Credited bytes follow the most
// generous side of each; the event names every level that applied.
func TestPromotionLevels(t *testing.T) {
	double := &core.Promotion{Name: "class", DownloadPercent: 100, UploadPercent: 200}
	halfClass := &core.Promotion{Name: "class", DownloadPercent: 50, UploadPercent: 100}
	siteFree := &core.Promotion{Name: "weekend", DownloadPercent: 0, UploadPercent: 100}
	for _, tc := range []struct {
		name       string
		torrent    core.Promotion
		class      *core.Promotion
		personal   time.Duration // 0: none; >0 until now+d; <0 ended
		token      bool
		site       *core.Promotion
		up, down   uint64
		promotions string
	}{
		{name: "class double upload", torrent: core.NoPromotion, class: double, up: 2000, down: 1000, promotions: "class"},
		{name: "class half and torrent 2x", torrent: core.Promotion{Name: "2x", DownloadPercent: 100, UploadPercent: 200}, class: halfClass, up: 2000, down: 500, promotions: "2x+class"},
		{name: "personal freeleech", torrent: core.NoPromotion, personal: time.Hour, up: 1000, down: 0, promotions: "personal_freeleech"},
		{name: "personal freeleech ended", torrent: core.NoPromotion, personal: -time.Hour, up: 1000, down: 1000, promotions: "none"},
		{name: "token", torrent: core.NoPromotion, token: true, up: 1000, down: 0, promotions: "token"},
		{name: "token on 2x", torrent: core.Promotion{Name: "2x", DownloadPercent: 100, UploadPercent: 200}, token: true, up: 2000, down: 0, promotions: "2x+token"},
		{name: "site window and class", torrent: core.NoPromotion, class: double, site: siteFree, up: 2000, down: 0, promotions: "site:weekend+class"},
		{name: "neutral beats everything", torrent: core.Neutral, class: double, personal: time.Hour, token: true, site: siteFree, up: 0, down: 0, promotions: "neutral"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, core.Config{})
			u := f.user(1)
			u.ClassPromotion = tc.class
			if tc.personal != 0 {
				u.PersonalFreeleech, u.PersonalFreeleechUntil = true, f.clock.Now().Add(tc.personal)
			}
			tr := f.torrent(1, tc.torrent)
			if tc.token {
				tr.Tokens = map[uint64]struct{}{1: {}}
			}
			if tc.site != nil {
				now := f.clock.Now()
				f.pol.SetSitePromotions([]policy.SitePromotion{{Promotion: *tc.site, Starts: now.Add(-time.Hour), Ends: now.Add(time.Hour)}})
			}
			r := req(1, 1, "a", "10.0.0.1", 5)
			f.mustAccept(r)
			r.Uploaded, r.Downloaded = 1000, 1000
			_, ev := f.mustAccept(r)
			if ev.CreditedUploaded != tc.up || ev.CreditedDownloaded != tc.down || ev.Promotion.GetName() != tc.promotions {
				t.Fatalf("credited %d/%d by %q, want %d/%d by %q", ev.CreditedUploaded, ev.CreditedDownloaded,
					ev.Promotion.GetName(), tc.up, tc.down, tc.promotions)
			}
			if ev.DeltaUploaded != 1000 || ev.DeltaDownloaded != 1000 {
				t.Fatalf("raw deltas %d/%d changed by a promotion", ev.DeltaUploaded, ev.DeltaDownloaded)
			}
		})
	}
}

// A token is the member's only: another member on the same torrent pays.
func TestTokenIsPerMember(t *testing.T) {
	f := newFixture(t, core.Config{})
	f.user(1)
	f.user(2)
	tr := f.torrent(1, core.NoPromotion)
	tr.Tokens = map[uint64]struct{}{1: {}}
	for _, user := range []uint64{1, 2} {
		r := req(user, 1, "a", "10.0.0.1", 5)
		r.Addr = r.Addr.Next()
		if user == 2 {
			r.Addr = r.Addr.Next()
		}
		f.mustAccept(r)
		r.Downloaded = 1000
		_, ev := f.mustAccept(r)
		want := uint64(1000)
		if user == 1 {
			want = 0
		}
		if ev.CreditedDownloaded != want {
			t.Fatalf("member %d credited download %d, want %d", user, ev.CreditedDownloaded, want)
		}
	}
}

// A deleted torrent's reason is told for a day (Ocelot's "Unregistered
// torrent: <reason>"), then only that it is unregistered; a torrent waiting
// for moderation is refused with its state.
func TestDeletedAndUnavailableTorrents(t *testing.T) {
	f := newFixture(t, core.Config{})
	f.user(1)
	del := f.torrent(1, core.NoPromotion)
	del.Deleted, del.DeletedReason, del.DeletedAt = true, "Dupe", f.clock.Now()
	if m := f.mustRefuse(req(1, 1, "a", "10.0.0.1", 5), events.Refusal_REFUSAL_TORRENT_DELETED); m != "unregistered torrent: Dupe" {
		t.Fatalf("within a day: %q", m)
	}
	f.clock.Advance(core.DeletedReasonFor)
	if m := f.mustRefuse(req(1, 1, "a", "10.0.0.1", 5), events.Refusal_REFUSAL_TORRENT_DELETED); m != "unregistered torrent" {
		t.Fatalf("after a day: %q", m)
	}
	pending := f.torrent(2, core.NoPromotion)
	pending.Unavailable = "torrent is pending moderation"
	if m := f.mustRefuse(req(1, 2, "a", "10.0.0.1", 5), events.Refusal_REFUSAL_TORRENT_UNKNOWN); m != pending.Unavailable {
		t.Fatalf("pending: %q", m)
	}
}

// The site changes the interval told to clients at run time.
func TestSetInterval(t *testing.T) {
	f := newFixture(t, core.Config{Interval: 30 * time.Minute})
	f.user(1)
	f.torrent(1, core.NoPromotion)
	if err := f.core.SetInterval(0, 0); err == nil {
		t.Fatal("interval 0 accepted")
	}
	if err := f.core.SetInterval(40*time.Minute, -time.Second); err == nil {
		t.Fatal("negative jitter accepted")
	}
	if err := f.core.SetInterval(40*time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	ans, _ := f.mustAccept(req(1, 1, "a", "10.0.0.1", 5))
	if ans.Interval != 2400 {
		t.Fatalf("interval told %d, want 2400", ans.Interval)
	}
	if i, j := f.core.Intervals(); i != 40*time.Minute || j != 0 {
		t.Fatalf("Intervals %v %v", i, j)
	}
}
