package detectors

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// refusedRow is an announce the tracker refused: it names the member,
// torrent, address and peer_id and carries the counters the client sent.
type refusedRow struct {
	t             time.Time
	user, torrent uint64
	peer, ip, ua  string
	event         string
	left          uint64
	refusal       string
}

// writeRefused inserts refused announces; call it before f.run, whose write
// rebuilds the rollups over every row.
func (f *fixture) writeRefused(rows []refusedRow) {
	f.t.Helper()
	ctx := context.Background()
	batch, err := f.env.CH.PrepareBatch(ctx, `INSERT INTO announces (event_id, time, time_ms, user_id, torrent_id, peer_id, ip,
		ip_family, network, user_agent, event, left, result, refusal)`)
	if err != nil {
		f.t.Fatal(err)
	}
	for i, r := range rows {
		addr := netip.MustParseAddr(r.ip)
		ip16 := addr.As16()
		fam := uint8(6)
		if addr.Is4() {
			fam = 4
		}
		net := NetworkOf(addr)
		var evID [16]byte
		evID[0], evID[1], evID[2], evID[15] = byte(i), byte(i>>8), byte(i>>16), 0xEE
		ev := r.event
		if ev == "" {
			ev = "none"
		}
		if err := batch.Append(string(evID[:]), r.t, uint64(r.t.UnixMilli()), r.user, r.torrent, string(peerID(r.peer)),
			string(ip16[:]), fam, string(net[:]), r.ua, ev, r.left, "refused", r.refusal); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := batch.Send(); err != nil {
		f.t.Fatal(err)
	}
}

func TestGhostLeecherHeldSlotsNotDeadSwarm(t *testing.T) {
	f := newFixture(t)
	const size = 4 << 30
	start := until.Add(-40 * time.Hour)
	sizes := map[uint64]uint64{}
	for i := 0; i < 4; i++ {
		for _, tor := range []uint64{uint64(10 + i), uint64(20 + i), uint64(30 + i)} {
			sizes[tor] = size
		}
		at := start.Add(time.Duration(i) * time.Hour)
		// Member 1 holds 4 leecher slots for 36 h in swarms with seeders,
		// nothing downloaded: a ghost leecher.
		f.session(session{user: 1, torrent: uint64(10 + i), peer: fmt.Sprintf("-qB4620-ghost%d", i), start: at, n: 73, every: 30 * time.Minute,
			left: size, seeders: 3, leechers: 5})
		// Member 2 is stuck as long on 4 swarms nobody seeds: honest.
		f.session(session{user: 2, torrent: uint64(20 + i), peer: fmt.Sprintf("-qB4620-dead%d", i), start: at, n: 73, every: 30 * time.Minute,
			left: size, leechers: 2})
		// Member 3 waits 6 h in seeded swarms before its client gives up
		// (a seeder that never answers): hours, not days.
		f.session(session{user: 3, torrent: uint64(30 + i), peer: fmt.Sprintf("-qB4620-wait%d", i), start: at, n: 13, every: 30 * time.Minute,
			left: size, seeders: 1, leechers: 3, lastEvent: "stopped"})
	}
	// Member 4 holds two slots for days with seeders: under min_held_slots.
	for i := 0; i < 2; i++ {
		sizes[uint64(40+i)] = size
		f.session(session{user: 4, torrent: uint64(40 + i), peer: fmt.Sprintf("-qB4620-two%d", i), start: start, n: 73, every: 30 * time.Minute,
			left: size, seeders: 2, leechers: 2})
	}
	f.sizes(sizes)
	got := f.run(GhostLeecher{})
	ghost := reported(t, got, 1)
	if ghost.Evidence.Signals[0].Name != "held_slots" || ghost.Evidence.Signals[0].Value != 4 || !ghost.Evidence.Signals[0].Fired {
		t.Errorf("held slots signal = %+v", ghost.Evidence.Signals[0])
	}
	notReported(t, got, 2)
	notReported(t, got, 3)
	notReported(t, got, 4)
}

func TestGhostLeecherFlagsHiddenDownloadNotStalledLeecher(t *testing.T) {
	f := newFixture(t)
	start := until.Add(-10 * time.Hour)
	for i := 0; i < 2; i++ {
		// Member 1 claims nothing yet uploads; member 2 is stuck in a seedless swarm.
		f.session(session{user: 1, torrent: uint64(90 + i), peer: "-qB4620-ghost", start: start, n: 8, every: 30 * time.Minute, left: 1 << 30, upRate: wobble(50 << 10), seeders: 3, leechers: 4})
		f.session(session{user: 2, torrent: uint64(95 + i), peer: "-qB4620-stall", start: start, n: 8, every: 30 * time.Minute, left: 1 << 30})
	}
	got := f.run(GhostLeecher{})
	reported(t, got, 1)
	notReported(t, got, 2)
}

func TestCloudLeechRefusedOfflineClientNotOneTry(t *testing.T) {
	f := newFixture(t)
	start := until.Add(-30 * time.Hour)
	var refused []refusedRow
	// Member 1's passkey is hammered by Xunlei from cloud servers on 6
	// torrents; the client rules refuse every try, so nothing moves.
	for i := 0; i < 6; i++ {
		at := start.Add(time.Duration(i) * 3 * time.Hour)
		ip := fmt.Sprintf("47.96.%d.%d", 10+i, 20+i)
		for k := 0; k < 5; k++ {
			ev := "none"
			if k == 0 {
				ev = "started"
			}
			refused = append(refused, refusedRow{t: at.Add(time.Duration(k) * 30 * time.Minute), user: 1, torrent: uint64(50 + i),
				peer: "-XL0012-cloud", ip: ip, ua: "Xunlei/0.0.1.2", event: ev, left: 2 << 30, refusal: "client_banned"})
		}
	}
	// Member 2 tried Xunlei once, on one torrent, then went back to its
	// usual client.
	for k := 0; k < 4; k++ {
		refused = append(refused, refusedRow{t: start.Add(time.Duration(k) * 30 * time.Minute), user: 2, torrent: 60,
			peer: "-XL0012-home", ip: "203.0.113.77", ua: "Xunlei/0.0.1.2", left: 3 << 30, refusal: "client_banned"})
	}
	f.session(session{user: 2, torrent: 60, peer: "-qB4620-home", ip: "203.0.113.77", start: start.Add(3 * time.Hour), n: 20, every: 30 * time.Minute,
		left: 3 << 30, downRate: wobble(2 << 20), upRate: wobble(1 << 20), lastEvent: "completed"})
	f.writeRefused(refused)
	got := f.run(CloudLeech{})
	leech := reported(t, got, 1)
	if leech.Evidence.Details["recommendation"] == nil {
		t.Errorf("no passkey reset recommended: %+v", leech.Evidence.Details)
	}
	notReported(t, got, 2)
}

func TestCloudLeechFastDropsNotHomeHitAndRun(t *testing.T) {
	f := newFixture(t)
	start := until.Add(-60 * time.Hour)
	for i := 0; i < 8; i++ {
		s := start.Add(time.Duration(i) * 6 * time.Hour)
		// Member 1: an offline-download service behind an allowed client id,
		// a different cloud server per download, 100 MiB/s, no upload,
		// stopped a minute after completing.
		ip := fmt.Sprintf("192.0.2.%d", 10+i)
		f.session(session{user: 1, torrent: uint64(80 + i), peer: fmt.Sprintf("A2-1-36-0-cl%d", i), ua: "aria2/1.36.0", ip: ip, start: s, n: 3, every: time.Minute,
			left: 4 << 30, downRate: constRate(100 << 20), lastEvent: "completed"})
		f.rows = append(f.rows, ann{t: s.Add(3 * time.Minute), user: 1, torrent: uint64(80 + i), peer: fmt.Sprintf("A2-1-36-0-cl%d", i), ua: "aria2/1.36.0", ip: ip,
			event: "stopped", down: 4 << 30, secs: 60})
		// Member 2: a hit-and-run member on a home line (5 MiB/s), the
		// same drops.
		f.session(session{user: 2, torrent: uint64(80 + i), peer: "-qB4620-hnr", ip: "203.0.113.9", start: s, n: 30, every: 30 * time.Minute,
			left: 8 << 30, downRate: constRate(5 << 20), lastEvent: "completed"})
		f.rows = append(f.rows, ann{t: s.Add(30*29*time.Minute + 2*time.Minute), user: 2, torrent: uint64(80 + i), peer: "-qB4620-hnr", ip: "203.0.113.9",
			event: "stopped", down: 8 << 30, secs: 120})
	}
	got := f.run(CloudLeech{})
	reported(t, got, 1)
	notReported(t, got, 2)
}

func TestLeakedPasskeyFlagsManyNetworksNotTwo(t *testing.T) {
	f := newFixture(t)
	start := until.Add(-3 * time.Hour)
	uas := []string{"qBittorrent/4.6.2", "Transmission/3.00", "Deluge/2.1.1"}
	for i := 0; i < 7; i++ {
		ip := "10.0." + string(rune('0'+i)) + ".5"
		f.session(session{user: 1, torrent: uint64(60 + i), peer: "-qB4620-leak" + string(rune('a'+i)), ua: uas[i%3], ip: ip, start: start, n: 2, every: 10 * time.Minute})
	}
	f.session(session{user: 2, torrent: 70, peer: "-qB4620-a", ip: "10.9.0.5", start: start, n: 2, every: 10 * time.Minute})
	f.session(session{user: 2, torrent: 71, peer: "-qB4620-b", ip: "10.9.1.5", start: start, n: 2, every: 10 * time.Minute})
	got := f.run(LeakedPasskey{})
	leak := reported(t, got, 1)
	if leak.Kind != SubjectPasskey || leak.SubjectID != "user:1" {
		t.Errorf("leaked passkey subject = %s/%s", leak.Kind, leak.SubjectID)
	}
	notReported(t, got, 2)
}

func TestLeakedPasskeyStrangersOverADayNotDynamicAddress(t *testing.T) {
	f := newFixture(t)
	day := until.Add(-20 * time.Hour)
	uas := []string{"qBittorrent/4.5.2", "Transmission/3.00", "Deluge/2.0.3", "aria2/1.36.0"}
	// Member 1: ten strangers join over the day one after another,
	// each on its own line with its own client; the owner carries on at home.
	for i := 0; i < 10; i++ {
		f.session(session{user: 1, torrent: uint64(60 + i%3), peer: fmt.Sprintf("-qB4520-str%d", i), ua: uas[i%4], ip: fmt.Sprintf("10.%d.7.5", 20+i),
			start: day.Add(time.Duration(i) * 100 * time.Minute), n: 4, every: 30 * time.Minute})
	}
	f.session(session{user: 1, torrent: 70, peer: "-qB4520-owner", ip: "10.1.1.5", start: day, n: 36, every: 30 * time.Minute})
	// Member 2: a dynamic home address redialled every three hours, one
	// client, a seedbox beside it: 7 networks in the day.
	for i := 0; i < 6; i++ {
		f.session(session{user: 2, torrent: 71, peer: "-qB4520-dyn", ip: fmt.Sprintf("10.3.%d.9", 40+i), start: day.Add(time.Duration(i) * 3 * time.Hour), n: 6, every: 30 * time.Minute})
	}
	f.session(session{user: 2, torrent: 72, peer: "-qB4520-box", ip: "10.4.4.4", start: day, n: 36, every: 30 * time.Minute})
	got := f.run(LeakedPasskey{})
	leak := reported(t, got, 1)
	if leak.Evidence.Signals[3].Name != "peak_networks_per_day" || !leak.Evidence.Signals[3].Fired {
		t.Errorf("day networks signal = %+v", leak.Evidence.Signals[3])
	}
	notReported(t, got, 2)
}

func TestPeakOverlap(t *testing.T) {
	for _, c := range []struct {
		from, until []uint32
		want        int
	}{
		{nil, nil, 0},
		{[]uint32{1, 5, 9}, []uint32{4, 8, 12}, 1},
		{[]uint32{1, 2, 3, 10}, []uint32{20, 5, 4, 11}, 3},
		{[]uint32{1, 4}, []uint32{4, 6}, 2}, // touching: both held at 4
	} {
		if got := peakOverlap(c.from, c.until); got != c.want {
			t.Errorf("peakOverlap(%v, %v) = %d, want %d", c.from, c.until, got, c.want)
		}
	}
}
