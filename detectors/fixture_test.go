package detectors

import (
	"context"
	"crypto/sha256"
	"net/netip"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest/rollup"
	"github.com/ratioguard/ratioguard/internal/testenv"
)

// until is the end of every fixture's window.
var until = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

// ann is one fixture announce; zero fields take defaults.
type ann struct {
	t                        time.Time
	user, torrent            uint64
	peer, ip, ua, key, order string
	event                    string
	up, down, left, corrupt  uint64
	dup, ddown               uint64
	secs                     uint32
	seeders, leechers        uint32
	refused                  bool // refused by the client rules: no deltas credited
}

// fixture collects announces and writes them to a fresh ClickHouse database.
type fixture struct {
	t    *testing.T
	env  *Env
	rows []ann
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ch := testenv.ClickHouse(t)
	return &fixture{t: t, env: &Env{CH: ch.Conn, Config: DefaultConfig(), Exempt: NewExemptions()}}
}

// session adds n announces of one peer every `every`, first "started";
// upRate/downRate in bytes per second; left falls with the download.
type session struct {
	user, torrent           uint64
	peer, ip, ua            string
	start                   time.Time
	n                       int
	every                   time.Duration
	upRate, downRate        func(i int) float64
	left                    uint64
	leechers, seeders       uint32
	lastEvent               string
	keyOverride, orderOverr string
}

func (f *fixture) session(s session) {
	var up, down uint64
	left := s.left
	for i := 0; i < s.n; i++ {
		at := s.start.Add(time.Duration(i) * s.every)
		secs := uint32(s.every.Seconds())
		var du, dd uint64
		if i > 0 {
			if s.upRate != nil {
				du = uint64(s.upRate(i) * float64(secs))
			}
			if s.downRate != nil {
				dd = min(uint64(s.downRate(i)*float64(secs)), left)
			}
		} else {
			secs = 0
		}
		up += du
		down += dd
		left -= dd
		ev := "none"
		if i == 0 {
			ev = "started"
		} else if i == s.n-1 && s.lastEvent != "" {
			ev = s.lastEvent
		}
		f.rows = append(f.rows, ann{t: at, user: s.user, torrent: s.torrent, peer: s.peer, ip: s.ip, ua: s.ua,
			key: s.keyOverride, order: s.orderOverr, event: ev, up: up, down: down, left: left, dup: du, ddown: dd,
			secs: secs, seeders: s.seeders, leechers: s.leechers})
	}
}

func constRate(r float64) func(int) float64 { return func(int) float64 { return r } }

// wobble is an honest-looking rate: r ± 30 %, deterministic, never repeating.
func wobble(r float64) func(int) float64 {
	return func(i int) float64 {
		h := sha256.Sum256([]byte{byte(i), byte(i >> 8)})
		return r * (0.7 + 0.6*float64(h[0])/255 + float64(h[1])/1e6)
	}
}

func peerID(s string) []byte {
	b := make([]byte, 20)
	copy(b, s)
	h := sha256.Sum256([]byte(s))
	copy(b[8:], h[:12])
	return b
}

func (f *fixture) write() {
	f.t.Helper()
	ctx := context.Background()
	batch, err := f.env.CH.PrepareBatch(ctx, `INSERT INTO announces (event_id, producer_id, sequence, kafka_partition, kafka_offset,
		schema_version, time, time_ms, user_id, torrent_id, info_hash, peer_id, ip, ip_family, network, port, user_agent, key,
		param_order, event, numwant, uploaded, downloaded, left, corrupt, delta_uploaded, delta_downloaded, credited_uploaded,
		credited_downloaded, promotion, promo_download_percent, promo_upload_percent, seconds_since_previous, seedtime_seconds,
		snatch, counter_reset, dual_stack_duplicate, seeders, leechers, result, refusal)`)
	if err != nil {
		f.t.Fatal(err)
	}
	for i, a := range f.rows {
		ip := a.ip
		if ip == "" {
			ip = "198.51.100.7"
		}
		addr := netip.MustParseAddr(ip)
		ip16 := addr.As16()
		fam := uint8(6)
		if addr.Is4() {
			fam = 4
		}
		net := NetworkOf(addr)
		ua, key, order, peer := a.ua, a.key, a.order, a.peer
		if ua == "" {
			ua = "qBittorrent/4.6.2"
		}
		if peer == "" {
			peer = "-qB4620-"
		}
		if key == "" {
			key = "A1B2C3D4"
		}
		if order == "" {
			order = "info_hash,peer_id,port,uploaded,downloaded,left,corrupt,key,event,numwant,compact"
		}
		result, refusal := "accepted", ""
		if a.refused {
			result, refusal = "refused", "client"
		}
		var evID [16]byte
		evID[0], evID[1], evID[2] = byte(i), byte(i>>8), byte(i>>16)
		var ih [20]byte
		ih[0] = byte(a.torrent)
		if err := batch.Append(string(evID[:]), "fixture\x00", uint64(i), uint32(0), uint64(i), uint8(1),
			a.t, uint64(a.t.UnixMilli()), a.user, a.torrent, string(ih[:]), string(peerID(peer)), string(ip16[:]), fam,
			string(net[:]), uint16(51413), ua, key, order, a.event, uint16(50), a.up, a.down, a.left, a.corrupt,
			a.dup, a.ddown, a.dup, a.ddown, "none", uint16(100), uint16(100), a.secs, uint32(0), uint8(0), uint8(0),
			uint8(0), a.seeders, a.leechers, result, refusal); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := batch.Send(); err != nil {
		f.t.Fatal(err)
	}
	// The rollups are not fed on insert: build them as a pass would.
	b := rollup.New(f.env.CH, nil)
	if _, err := b.Refresh(ctx, time.Time{}); err != nil {
		f.t.Fatal(err)
	}
	if err := b.Close(ctx); err != nil {
		f.t.Fatal(err)
	}
}

// sizes declares torrent sizes as the Postgres sync would.
func (f *fixture) sizes(m map[uint64]uint64) {
	f.t.Helper()
	batch, err := f.env.CH.PrepareBatch(context.Background(), "INSERT INTO detector_torrents (torrent_id, size, version)")
	if err != nil {
		f.t.Fatal(err)
	}
	for id, s := range m {
		if err := batch.Append(id, s, uint64(1)); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := batch.Send(); err != nil {
		f.t.Fatal(err)
	}
}

// run writes the fixture and runs the detector over its lookback.
func (f *fixture) run(d Detector) map[uint64]Finding {
	f.t.Helper()
	f.write()
	w := Window{From: until.Add(-d.Lookback(f.env.Config)), Until: until}
	w.ActiveSince = w.From
	fs, err := d.Run(context.Background(), f.env, w)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[uint64]Finding{}
	for _, x := range fs {
		out[x.UserID] = x
	}
	return out
}

// reported asserts the member got a finding at or above the report threshold.
func reported(t *testing.T, got map[uint64]Finding, user uint64) Finding {
	t.Helper()
	f, ok := got[user]
	if !ok || f.Score < DefaultConfig().ReportThreshold {
		t.Fatalf("member %d not reported (finding %+v)", user, f)
	}
	return f
}

// notReported asserts the member stays under the report threshold.
func notReported(t *testing.T, got map[uint64]Finding, user uint64) {
	t.Helper()
	if f, ok := got[user]; ok && f.Score >= DefaultConfig().ReportThreshold {
		t.Fatalf("honest look-alike %d reported: score %.2f, %s", user, f.Score, f.Evidence.Summary)
	}
}
