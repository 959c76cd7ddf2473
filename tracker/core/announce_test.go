package core_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/policy"
)

func TestAcceptedEventCarriesEverything(t *testing.T) {
	f := newFixture(t, core.Config{})
	f.user(7)
	f.torrent(3, core.NoPromotion)
	r := req(7, 3, "a", "10.0.0.1", 1000)
	r.Uploaded, r.Downloaded, r.Corrupt, r.Event, r.NumWant = 5, 6, 1, events.Event_EVENT_STARTED, 30
	ans, ev := f.mustAccept(r)
	if ans.Interval != 100 || ans.MinInterval != 10 || ans.Incomplete != 1 || ans.Complete != 0 {
		t.Fatalf("answer %+v", ans)
	}
	want := events.ID(f.core.ProducerID(), ev.Sequence)
	if !bytes.Equal(ev.EventId, want) || ev.Sequence != 1 || ev.SchemaVersion != 1 {
		t.Fatalf("event id %x seq %d, want %x", ev.EventId, ev.Sequence, want)
	}
	ih := infoHash(3)
	if ev.UserId != 7 || ev.TorrentId != 3 || !bytes.Equal(ev.InfoHash, ih[:]) || !bytes.Equal(ev.PeerId, r.PeerID) ||
		!bytes.Equal(ev.Ip, []byte{10, 0, 0, 1}) || ev.Port != 51413 || ev.Key != "abcd1234" || ev.UserAgent != "qBittorrent/4.6.5" ||
		strings.Join(ev.ParamOrder, ",") != "info_hash,peer_id,port" || ev.Event != events.Event_EVENT_STARTED || ev.Numwant != 30 ||
		ev.Uploaded != 5 || ev.Downloaded != 6 || ev.Left != 1000 || ev.Corrupt != 1 || ev.TimeUnixNano != f.clock.Now().UnixNano() ||
		ev.DeltaUploaded != 0 || ev.Promotion.GetName() != "none" {
		t.Fatalf("event %v", ev)
	}
	// The event owns its memory: changing the request afterwards changes nothing.
	r.PeerID[0], r.Key[0] = 'X', 'X'
	if ev.PeerId[0] != '-' || ev.Key != "abcd1234" {
		t.Fatal("event aliases the request's buffers")
	}
	_, ev2 := f.mustAccept(req(7, 3, "a", "10.0.0.1", 1000))
	if ev2.Sequence != 2 {
		t.Fatalf("second sequence %d", ev2.Sequence)
	}
}

func TestRefusals(t *testing.T) {
	f := newFixture(t, core.Config{})
	f.user(1)
	off := f.user(2)
	off.Enabled, off.DisabledReason = false, "ratio too low"
	noLeech := f.user(3)
	noLeech.CanLeech = false
	f.torrent(10, core.NoPromotion)
	del := f.torrent(11, core.NoPromotion)
	del.Deleted, del.DeletedReason = true, "duplicate of another upload"

	malformed := req(1, 10, "a", "10.0.0.1", 5)
	malformed.Malformed = "missing parameter: port"
	if m := f.mustRefuse(malformed, events.Refusal_REFUSAL_MALFORMED); m != "missing parameter: port" {
		t.Fatal(m)
	}
	short := req(1, 10, "a", "10.0.0.1", 5)
	short.InfoHash = short.InfoHash[:19]
	f.mustRefuse(short, events.Refusal_REFUSAL_MALFORMED)
	if ev := f.sink.last(t); len(ev.InfoHash) != 19 {
		t.Fatalf("malformed info_hash not kept as sent: %x", ev.InfoHash)
	}
	f.mustRefuse(req(99, 10, "a", "10.0.0.2", 5), events.Refusal_REFUSAL_UNKNOWN_PASSKEY)
	if m := f.mustRefuse(req(2, 10, "a", "10.0.0.1", 5), events.Refusal_REFUSAL_USER_DISABLED); !strings.Contains(m, "ratio too low") {
		t.Fatal(m)
	}
	if ev := f.sink.last(t); ev.UserId != 2 {
		t.Fatalf("refused event user %d", ev.UserId)
	}
	f.mustRefuse(req(1, 12, "a", "10.0.0.1", 5), events.Refusal_REFUSAL_TORRENT_UNKNOWN)
	if m := f.mustRefuse(req(1, 11, "a", "10.0.0.1", 5), events.Refusal_REFUSAL_TORRENT_DELETED); !strings.Contains(m, "duplicate") {
		t.Fatal(m)
	}
	port := req(1, 10, "a", "10.0.0.1", 5)
	port.Port = 445
	if m := f.mustRefuse(port, events.Refusal_REFUSAL_PORT_BANNED); !strings.Contains(m, "445") {
		t.Fatal(m)
	}
	if m := f.mustRefuse(req(3, 10, "a", "10.0.0.3", 5), events.Refusal_REFUSAL_LEECHING_DISABLED); !strings.Contains(m, "seed") {
		t.Fatal(m)
	}
	f.mustAccept(req(3, 10, "a", "10.0.0.3", 0)) // seeding still allowed
	if err := f.pol.SetClientRules([]core.ClientRule{{Prefix: "-qB", MinVersion: "4.0.0", UAFamily: "qbittorrent", Allowed: true}}); err != nil {
		t.Fatal(err)
	}
	bc := req(1, 10, "a", "10.0.0.1", 5)
	bc.PeerID = []byte("-BC0200-000000000000")
	f.mustRefuse(bc, events.Refusal_REFUSAL_CLIENT_BANNED)
}

func TestBadPasskeysAreRateLimitedPerAddress(t *testing.T) {
	f := newFixture(t, core.Config{BadPasskeyLimit: 3, BadPasskeyWindow: time.Minute})
	f.user(1)
	f.torrent(1, core.NoPromotion)
	for i := 0; i < 3; i++ {
		f.mustRefuse(req(uint64(100+i), 1, "a", "10.9.9.9", 5), events.Refusal_REFUSAL_UNKNOWN_PASSKEY)
	}
	// Blocked now for unknown passkeys; a member's valid passkey from the
	// same (NAT) address is served, and other addresses are not blocked.
	f.mustRefuse(req(103, 1, "a", "10.9.9.9", 5), events.Refusal_REFUSAL_RATE_LIMITED)
	f.mustAccept(req(1, 1, "a", "10.9.9.9", 5))
	f.mustRefuse(req(104, 1, "b", "10.9.9.8", 5), events.Refusal_REFUSAL_UNKNOWN_PASSKEY)
	f.clock.Advance(61 * time.Second)
	f.core.Expire()
	f.mustRefuse(req(105, 1, "a", "10.9.9.9", 5), events.Refusal_REFUSAL_UNKNOWN_PASSKEY)
}

// An IPv6 guesser rotating addresses inside its /64 is one source; the next
// /64 is another.
func TestBadPasskeysCountIPv6By64(t *testing.T) {
	f := newFixture(t, core.Config{BadPasskeyLimit: 3, BadPasskeyWindow: time.Minute})
	f.user(1)
	f.torrent(1, core.NoPromotion)
	for i, ip := range []string{"2001:db8:1:2::1", "2001:db8:1:2:aaaa::2", "2001:db8:1:2:ffff:ffff:ffff:ffff"} {
		f.mustRefuse(req(uint64(100+i), 1, "a", ip, 5), events.Refusal_REFUSAL_UNKNOWN_PASSKEY)
	}
	f.mustRefuse(req(103, 1, "a", "2001:db8:1:2::99", 5), events.Refusal_REFUSAL_RATE_LIMITED)
	f.mustRefuse(req(104, 1, "b", "2001:db8:1:3::1", 5), events.Refusal_REFUSAL_UNKNOWN_PASSKEY)
	f.mustAccept(req(1, 1, "c", "2001:db8:1:2::77", 5))
	if msg := f.core.CheckPasskey(passkey(105), netip.MustParseAddr("2001:db8:1:2::5")); msg == "" || !strings.Contains(msg, "many") {
		t.Errorf("scrape from the blocked /64 with an unknown passkey: %q", msg)
	}
	if msg := f.core.CheckPasskey(passkey(1), netip.MustParseAddr("2001:db8:1:2::5")); msg != "" {
		t.Errorf("scrape from the blocked /64 with a valid passkey: %q", msg)
	}
}

func TestAccountingBaselineDeltaAndRestart(t *testing.T) {
	f := newFixture(t, core.Config{})
	f.user(1)
	f.torrent(1, core.NoPromotion)
	r := req(1, 1, "a", "10.0.0.1", 500)
	r.Uploaded, r.Downloaded = 1000, 2000
	_, ev := f.mustAccept(r)
	if ev.DeltaUploaded != 0 || ev.DeltaDownloaded != 0 {
		t.Fatalf("first announce credited %d/%d", ev.DeltaUploaded, ev.DeltaDownloaded)
	}
	f.clock.Advance(50 * time.Second)
	r.Uploaded, r.Downloaded = 1500, 2600
	_, ev = f.mustAccept(r)
	if ev.DeltaUploaded != 500 || ev.DeltaDownloaded != 600 || ev.CreditedUploaded != 500 || ev.SecondsSincePrevious != 50 {
		t.Fatalf("deltas %d/%d credited %d since %d", ev.DeltaUploaded, ev.DeltaDownloaded, ev.CreditedUploaded, ev.SecondsSincePrevious)
	}
	// Restart: counters go down → re-baseline, credit 0.
	f.clock.Advance(50 * time.Second)
	r.Uploaded, r.Downloaded = 100, 0
	_, ev = f.mustAccept(r)
	if !ev.CounterReset || ev.DeltaUploaded != 0 || ev.DeltaDownloaded != 0 {
		t.Fatalf("restart: reset %v deltas %d/%d", ev.CounterReset, ev.DeltaUploaded, ev.DeltaDownloaded)
	}
	f.clock.Advance(50 * time.Second)
	r.Uploaded = 150
	if _, ev = f.mustAccept(r); ev.DeltaUploaded != 50 {
		t.Fatalf("after restart delta %d, want 50", ev.DeltaUploaded)
	}
}

func TestDualStackIsCountedOnce(t *testing.T) {
	f := newFixture(t, core.Config{MaxIPs: 1})
	f.user(1)
	f.torrent(1, core.NoPromotion)
	v4 := req(1, 1, "a", "10.0.0.1", 500)
	v6 := req(1, 1, "a", "2001:db8::1", 500)
	f.mustAccept(v4)
	// Same session over IPv6: one location (MaxIPs 1 still accepts), nothing added.
	f.clock.Advance(30 * time.Second)
	v4.Uploaded, v6.Uploaded = 1000, 1000
	if _, ev := f.mustAccept(v4); ev.DeltaUploaded != 1000 {
		t.Fatalf("v4 delta %d", ev.DeltaUploaded)
	}
	_, ev := f.mustAccept(v6)
	if !ev.DualStackDuplicate || ev.DeltaUploaded != 0 {
		t.Fatalf("v6 duplicate %v delta %d", ev.DualStackDuplicate, ev.DeltaUploaded)
	}
	// A stale report over IPv6 (behind v4) must not re-baseline downwards.
	v4.Uploaded, v6.Uploaded = 3000, 2000
	f.mustAccept(v4)
	if _, ev = f.mustAccept(v6); !ev.DualStackDuplicate || ev.CounterReset || ev.DeltaUploaded != 0 {
		t.Fatalf("stale v6: dup %v reset %v delta %d", ev.DualStackDuplicate, ev.CounterReset, ev.DeltaUploaded)
	}
	v4.Uploaded = 3500
	if _, ev = f.mustAccept(v4); ev.DeltaUploaded != 500 {
		t.Fatalf("v4 after stale v6: delta %d, want 500", ev.DeltaUploaded)
	}
	// Another peer gets both addresses of that session's family: the v6 one to a v6 asker.
	f.user(2)
	ans, _ := f.mustAccept(req(2, 1, "b", "2001:db8:1::9", 100))
	if len(ans.Peers) != 1 || ans.Peers[0].Is4 || netip.AddrFrom16(ans.Peers[0].Addr) != netip.MustParseAddr("2001:db8::1") {
		t.Fatalf("v6 asker got %+v", ans.Peers)
	}
	// A different location is over the cap of 1.
	f.mustRefuse(req(1, 1, "z", "10.0.0.2", 500), events.Refusal_REFUSAL_TOO_MANY_IPS)
}

func TestPromotions(t *testing.T) {
	cases := []struct {
		promo    core.Promotion
		until    time.Duration // 0: forever; negative: expired
		site     *core.Promotion
		up, down uint64
		name     string
	}{
		{core.NoPromotion, 0, nil, 1000, 1000, "none"},
		{core.Promotion{Name: "free", DownloadPercent: 0, UploadPercent: 100}, 0, nil, 1000, 0, "free"},
		{core.Promotion{Name: "50%", DownloadPercent: 50, UploadPercent: 100}, 0, nil, 1000, 500, "50%"},
		{core.Promotion{Name: "75%", DownloadPercent: 75, UploadPercent: 100}, 0, nil, 1000, 750, "75%"},
		{core.Promotion{Name: "30%", DownloadPercent: 30, UploadPercent: 100}, 0, nil, 1000, 300, "30%"},
		{core.Promotion{Name: "2x", DownloadPercent: 100, UploadPercent: 200}, 0, nil, 2000, 1000, "2x"},
		{core.Promotion{Name: "free+2x", DownloadPercent: 0, UploadPercent: 200}, 0, nil, 2000, 0, "free+2x"},
		{core.Promotion{Name: "3x", DownloadPercent: 100, UploadPercent: 300}, time.Hour, nil, 3000, 1000, "3x"},
		{core.Promotion{Name: "free", DownloadPercent: 0, UploadPercent: 100}, -time.Hour, nil, 1000, 1000, "none"},
		{core.NoPromotion, 0, &core.Promotion{Name: "freeleech", DownloadPercent: 0, UploadPercent: 100}, 1000, 0, "site:freeleech"},
		{core.Promotion{Name: "2x", DownloadPercent: 100, UploadPercent: 200}, 0, &core.Promotion{Name: "freeleech", DownloadPercent: 0, UploadPercent: 100}, 2000, 0, "2x+site:freeleech"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, core.Config{})
			f.user(1)
			tr := f.torrent(1, tc.promo)
			if tc.until != 0 {
				tr.PromotionUntil = f.clock.Now().Add(tc.until)
			}
			if tc.site != nil {
				now := f.clock.Now()
				f.pol.SetSitePromotions([]policy.SitePromotion{
					{Promotion: *tc.site, Starts: now.Add(-time.Hour), Ends: now.Add(time.Hour)},
					{Promotion: core.Promotion{Name: "past", DownloadPercent: 0, UploadPercent: 500}, Starts: now.Add(-3 * time.Hour), Ends: now.Add(-2 * time.Hour)},
				})
			}
			r := req(1, 1, "a", "10.0.0.1", 5)
			f.mustAccept(r)
			r.Uploaded, r.Downloaded = 1000, 1000
			_, ev := f.mustAccept(r)
			if ev.DeltaUploaded != 1000 || ev.DeltaDownloaded != 1000 || ev.CreditedUploaded != tc.up || ev.CreditedDownloaded != tc.down || ev.Promotion.GetName() != tc.name {
				t.Fatalf("raw %d/%d credited %d/%d promo %q; want credited %d/%d %q",
					ev.DeltaUploaded, ev.DeltaDownloaded, ev.CreditedUploaded, ev.CreditedDownloaded, ev.Promotion.GetName(), tc.up, tc.down, tc.name)
			}
		})
	}
}

func TestSeedtimeCappedAndSnatchOnce(t *testing.T) {
	f := newFixture(t, core.Config{})
	f.user(1)
	f.torrent(1, core.NoPromotion)
	r := req(1, 1, "a", "10.0.0.1", 100)
	f.mustAccept(r)
	f.clock.Advance(40 * time.Second)
	r.Left, r.Event = 0, events.Event_EVENT_COMPLETED
	_, ev := f.mustAccept(r)
	if !ev.Snatch || ev.SeedtimeSeconds != 0 {
		t.Fatalf("completion: snatch %v seedtime %d (was leeching)", ev.Snatch, ev.SeedtimeSeconds)
	}
	f.clock.Advance(60 * time.Second)
	_, ev = f.mustAccept(r) // completed again
	if ev.Snatch || ev.SeedtimeSeconds != 60 {
		t.Fatalf("second completed: snatch %v seedtime %d", ev.Snatch, ev.SeedtimeSeconds)
	}
	f.clock.Advance(150 * time.Second) // within expiry (200 s) but over the cap? cap is 2×interval = 200
	r.Event = events.Event_EVENT_NONE
	if _, ev = f.mustAccept(r); ev.SeedtimeSeconds != 150 {
		t.Fatalf("seedtime %d, want 150", ev.SeedtimeSeconds)
	}
	if st, ok := f.core.Scrape(infoHash(1)); !ok || st.Downloaded != 1 || st.Complete != 1 {
		t.Fatalf("scrape %+v %v", st, ok)
	}
}

func TestSeedtimeCapAtTwiceTheInterval(t *testing.T) {
	f := newFixture(t, core.Config{})
	f.user(1)
	f.torrent(1, core.NoPromotion)
	r := req(1, 1, "a", "10.0.0.1", 0)
	f.mustAccept(r)
	f.clock.Advance(199 * time.Second)
	f.core.Expire()
	// Only the peer's own reannounce after the cap window was reached still counts at most 200.
	f.clock.Advance(1 * time.Second)
	if _, ev := f.mustAccept(r); ev.SeedtimeSeconds != 200 {
		t.Fatalf("seedtime %d, want 200", ev.SeedtimeSeconds)
	}
}

func TestPeersExpireAfterTwiceTheInterval(t *testing.T) {
	f := newFixture(t, core.Config{})
	f.user(1)
	f.user(2)
	f.torrent(1, core.NoPromotion)
	f.mustAccept(req(1, 1, "a", "10.0.0.1", 0))
	f.clock.Advance(150 * time.Second)
	f.mustAccept(req(2, 1, "b", "10.0.0.2", 0))
	f.clock.Advance(60 * time.Second) // peer a last seen 210 s ago
	if n := f.core.Expire(); n != 1 {
		t.Fatalf("expired %d, want 1", n)
	}
	if s := f.core.Stats(); s.Peers != 1 || s.Torrents != 1 {
		t.Fatalf("stats %+v", s)
	}
	f.clock.Advance(200 * time.Second)
	f.core.Expire()
	if s := f.core.Stats(); s.Peers != 0 || s.Torrents != 0 || s.Users != 0 {
		t.Fatalf("stats after all expired %+v", s)
	}
	// The expired session starts over with a new baseline.
	r := req(1, 1, "a", "10.0.0.1", 0)
	r.Uploaded = 999
	if _, ev := f.mustAccept(r); ev.DeltaUploaded != 0 {
		t.Fatalf("expired session credited %d", ev.DeltaUploaded)
	}
}

func TestIPCapAndSeedboxes(t *testing.T) {
	f := newFixture(t, core.Config{})
	f.user(1)
	for i := uint64(1); i <= 6; i++ {
		f.torrent(i, core.NoPromotion)
	}
	f.mustAccept(req(1, 1, "a", "10.0.0.1", 0))
	f.mustAccept(req(1, 2, "b", "10.0.0.2", 0))
	f.mustAccept(req(1, 3, "c", "2001:db8:0:1::5", 0))
	f.mustAccept(req(1, 4, "d", "2001:db8:0:1::6", 0)) // same /64: same location
	if m := f.mustRefuse(req(1, 5, "e", "10.0.0.4", 0), events.Refusal_REFUSAL_TOO_MANY_IPS); !strings.Contains(m, "3") {
		t.Fatal(m)
	}
	// A declared seedbox that does not count is allowed beyond the cap; one that counts is not.
	f.pol.SetSeedboxes(map[uint64][]policy.SeedboxRange{1: {
		{Prefix: netip.MustParsePrefix("192.0.2.0/24")},
		{Prefix: netip.MustParsePrefix("198.51.100.0/24"), CountsForCap: true},
	}})
	f.mustAccept(req(1, 5, "e", "192.0.2.7", 0))
	f.mustRefuse(req(1, 6, "f", "198.51.100.7", 0), events.Refusal_REFUSAL_TOO_MANY_IPS)
	// Locations not seen for twice the interval stop counting.
	f.clock.Advance(201 * time.Second)
	f.mustAccept(req(1, 6, "f", "198.51.100.7", 0))
}

func TestPeersPerTorrentCap(t *testing.T) {
	f := newFixture(t, core.Config{MaxPeers: 2})
	f.user(1)
	f.torrent(1, core.NoPromotion)
	f.mustAccept(req(1, 1, "a", "10.0.0.1", 0))
	f.mustAccept(req(1, 1, "b", "10.0.0.1", 0))
	f.mustRefuse(req(1, 1, "c", "10.0.0.1", 0), events.Refusal_REFUSAL_TOO_MANY_PEERS)
	stop := req(1, 1, "a", "10.0.0.1", 0)
	stop.Event = events.Event_EVENT_STOPPED
	f.mustAccept(stop)
	f.mustAccept(req(1, 1, "c", "10.0.0.1", 0))
}

func TestPeerSelection(t *testing.T) {
	f := newFixture(t, core.Config{NumWant: 5, MaxNumWant: 8})
	f.torrent(1, core.NoPromotion)
	for u := uint64(1); u <= 12; u++ {
		f.user(u)
	}
	// Users 1-4 seed over IPv4; 5-8 leech over IPv4; 9-10 leech over IPv6.
	for u := uint64(1); u <= 10; u++ {
		ip, left := "10.0.0."+string(rune('0'+u%10)), uint64(0)
		if u >= 5 {
			left = 1
		}
		if u >= 9 {
			ip = "2001:db8::" + string(rune('0'+u%10))
		}
		f.mustAccept(req(u, 1, "p", ip, left))
	}
	// A second peer of user 5 must never be handed to user 5.
	f.mustAccept(req(5, 1, "q", "10.0.0.5", 1))
	// A seeder gets leechers only, capped at numwant, own family first.
	r := req(1, 1, "p", "10.0.0.1", 0)
	r.NumWant = 100
	ans, _ := f.mustAccept(r)
	if len(ans.Peers) != 7 || ans.Complete != 4 || ans.Incomplete != 7 {
		t.Fatalf("seeder got %d peers, complete %d incomplete %d", len(ans.Peers), ans.Complete, ans.Incomplete)
	}
	for i, p := range ans.Peers {
		if p.Is4 != (i < 5) {
			t.Fatalf("peer %d is4=%v: asker's family must come first", i, p.Is4)
		}
	}
	// User 5 leeching gets seeders and other leechers, default numwant, never itself.
	ans, _ = f.mustAccept(req(5, 1, "p", "10.0.0.5", 1))
	if len(ans.Peers) != 5 {
		t.Fatalf("leecher got %d peers, want default 5", len(ans.Peers))
	}
	for _, p := range ans.Peers {
		if p.Addr[3] == 5 && p.Is4 {
			t.Fatalf("user 5 was handed its own peer")
		}
	}
	r = req(5, 1, "p", "10.0.0.5", 1)
	r.NumWant = 0
	if ans, _ = f.mustAccept(r); len(ans.Peers) != 0 {
		t.Fatalf("numwant=0 got %d peers", len(ans.Peers))
	}
}

func TestWarningWhenAnnouncingTooOften(t *testing.T) {
	f := newFixture(t, core.Config{})
	f.user(1)
	f.torrent(1, core.NoPromotion)
	r := req(1, 1, "a", "10.0.0.1", 0)
	f.mustAccept(r)
	f.clock.Advance(2 * time.Second)
	ans, _ := f.mustAccept(r)
	if !strings.Contains(ans.Warning, "too often") {
		t.Fatalf("warning %q", ans.Warning)
	}
	f.clock.Advance(20 * time.Second)
	if ans, _ = f.mustAccept(r); ans.Warning != "" {
		t.Fatalf("unexpected warning %q", ans.Warning)
	}
}

func TestStoppedRemovesThePeer(t *testing.T) {
	f := newFixture(t, core.Config{})
	f.user(1)
	f.torrent(1, core.NoPromotion)
	r := req(1, 1, "a", "10.0.0.1", 10)
	f.mustAccept(r)
	r.Event, r.Downloaded = events.Event_EVENT_STOPPED, 77
	ans, ev := f.mustAccept(r)
	if ev.DeltaDownloaded != 77 || ans.Incomplete != 0 || len(ans.Peers) != 0 || ev.Leechers != 1 {
		t.Fatalf("stopped: delta %d incomplete %d peers %d leechers-before %d", ev.DeltaDownloaded, ans.Incomplete, len(ans.Peers), ev.Leechers)
	}
	if s := f.core.Stats(); s.Peers != 0 || s.Torrents != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestPeerCapInALargeSwarm(t *testing.T) {
	f := newFixture(t, core.Config{MaxPeers: 2})
	f.torrent(1, core.NoPromotion)
	for u := uint64(1); u <= 100; u++ { // beyond the size where sessions per member are counted in a map
		f.user(u)
		f.mustAccept(req(u, 1, "a", netip.AddrFrom4([4]byte{10, 1, 0, byte(u)}).String(), 0))
	}
	f.mustAccept(req(7, 1, "b", "10.1.0.7", 0))
	f.mustRefuse(req(7, 1, "c", "10.1.0.7", 0), events.Refusal_REFUSAL_TOO_MANY_PEERS)
	stop := req(7, 1, "a", "10.1.0.7", 0)
	stop.Event = events.Event_EVENT_STOPPED
	f.mustAccept(stop)
	f.mustAccept(req(7, 1, "c", "10.1.0.7", 0))
	if s := f.core.Stats(); s.Peers != 101 {
		t.Fatalf("peers %d, want 101", s.Peers)
	}
}

func TestMissingAddressIsRefused(t *testing.T) {
	f := newFixture(t, core.Config{})
	f.user(1)
	f.torrent(1, core.NoPromotion)
	r := req(1, 1, "a", "10.0.0.1", 0)
	r.Addr = netip.Addr{}
	f.mustRefuse(r, events.Refusal_REFUSAL_MALFORMED)
}

// TestConcurrentAnnounces exercises the shard locks under the race detector:
// announces, stops, expiry and stats at once, then checks the counts add up.
func TestConcurrentAnnounces(t *testing.T) {
	f := newFixture(t, core.Config{MaxIPs: 100})
	for u := uint64(1); u <= 50; u++ {
		f.user(u)
	}
	for tid := uint64(1); tid <= 20; tid++ {
		f.torrent(tid, core.NoPromotion)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			f.core.Expire()
			f.core.Stats()
		}
	}()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			ans := &core.Answer{}
			for i := 0; i < 2000; i++ {
				u, tid := uint64(i%50+1), uint64((i+g)%20+1)
				r := req(u, tid, fmt.Sprintf("g%d", g), "10.2.0.1", uint64(i%2))
				r.Uploaded = uint64(i)
				if i%50 == 49 {
					r.Event = events.Event_EVENT_STOPPED
				}
				f.core.Announce(r, ans)
			}
		}(g)
	}
	wg.Wait()
	<-done
	f.sink.mu.Lock()
	n := len(f.sink.evs)
	f.sink.mu.Unlock()
	if n != 4*2000 {
		t.Fatalf("%d events for %d announces", n, 4*2000)
	}
	if s := f.core.Stats(); s.Peers > 4*50*20 || s.Peers == 0 {
		t.Fatalf("stats %+v", s)
	}
}
