// Package ingesttest owns what the ingest tests share: a deterministic
// generator of synthetic announce events with their ground truth (what the
// sinks must hold after loading them exactly once), a producer for test
// topics, and checks of ClickHouse and the ledger against the truth.
package ingesttest

import (
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// Msg is one Kafka message to produce.
type Msg struct {
	Key, Value []byte
}

// Sums is what one member accumulated from accepted announces.
type Sums struct {
	Announces, RawUp, RawDown, CredUp, CredDown, Seedtime, Snatches uint64
}

func (s *Sums) add(a *events.Announce) {
	s.Announces++
	s.RawUp += a.GetDeltaUploaded()
	s.RawDown += a.GetDeltaDownloaded()
	s.CredUp += a.GetCreditedUploaded()
	s.CredDown += a.GetCreditedDownloaded()
	s.Seedtime += uint64(a.GetSeedtimeSeconds())
	if a.GetSnatch() {
		s.Snatches++
	}
}

// Truth is what loading a data set exactly once must produce.
type Truth struct {
	Events   uint64 // distinct events (accepted and refused)
	Accepted uint64
	Garbage  uint64 // undecodable messages
	// ByUser: accepted announces of members (user_id != 0), known or not.
	ByUser map[uint64]*Sums
	// Known: members that exist in Postgres (SeedPostgres); others are parked by the ledger.
	Known map[uint64]bool
	// Pairs: distinct (user, torrent) of known members' accepted announces.
	Pairs        map[[2]uint64]bool
	DeltaUp      uint64 // over every event, refused included
	CredUpAll    uint64
	UserTorrents uint64
}

// Gen generates a synthetic announce stream.
type Gen struct {
	rng       *rand.Rand
	producers [][8]byte
	seq       []uint64
	Users     int // known members are 1..Users
	Torrents  int // torrents are 1..Torrents
	start     time.Time
	n         int
}

// NewGen returns a generator seeded deterministically; events start at start
// and advance 7 ms each (a 1M-event run spans about two hours).
func NewGen(seed uint64, users, torrents int, start time.Time) *Gen {
	g := &Gen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), Users: users, Torrents: torrents, start: start}
	for i := 0; i < 3; i++ {
		var p [8]byte
		binary.BigEndian.PutUint64(p[:], g.rng.Uint64())
		g.producers = append(g.producers, p)
		g.seq = append(g.seq, 0)
	}
	return g
}

// Next returns the next event: mostly accepted announces of known members;
// about 4% refused (half of them with user 0), 1% of unknown members.
func (g *Gen) Next() *events.Announce {
	r := g.rng
	pi := r.IntN(len(g.producers))
	g.seq[pi]++
	t := g.start.Add(time.Duration(g.n) * 7 * time.Millisecond)
	g.n++
	user := uint64(1 + r.IntN(g.Users))
	torrent := uint64(1 + r.IntN(g.Torrents))
	a := &events.Announce{
		SchemaVersion: events.SchemaVersion,
		EventId:       events.ID(g.producers[pi], g.seq[pi]),
		ProducerId:    g.producers[pi][:],
		Sequence:      g.seq[pi],
		TimeUnixNano:  t.UnixNano(),
		UserId:        user,
		TorrentId:     torrent,
		InfoHash:      fill(20, byte(torrent)),
		PeerId:        []byte("-qB4650-" + strconv.FormatUint(1e11+user*31+torrent, 10)[:12]),
		Port:          uint32(6881 + r.IntN(100)),
		UserAgent:     "qBittorrent/4.6.5",
		Key:           strconv.FormatUint(user*7919, 16),
		ParamOrder:    []string{"info_hash", "peer_id", "port", "uploaded", "downloaded", "left", "event"},
		Event:         events.Event(r.IntN(4)),
		Numwant:       50,
		Seeders:       uint32(r.IntN(50)),
		Leechers:      uint32(r.IntN(50)),
		Result:        events.Result_RESULT_ACCEPTED,
		Promotion:     &events.Promotion{Name: "none", DownloadPercent: 100, UploadPercent: 100},
	}
	if r.IntN(3) == 0 {
		a.Ip = []byte{10, byte(user >> 8), byte(user), byte(r.IntN(256))}
	} else if r.IntN(2) == 0 {
		a.Ip = append([]byte{0x20, 0x01, 0x0d, 0xb8, byte(user >> 8), byte(user), 0, 1}, fill(8, byte(r.IntN(256)))...)
	} else {
		a.Ip = []byte{192, 168, byte(user), byte(r.IntN(256))}
	}
	switch k := r.IntN(100); {
	case k < 2:
		a.Result, a.Refusal, a.UserId, a.TorrentId = events.Result_RESULT_REFUSED, events.Refusal_REFUSAL_UNKNOWN_PASSKEY, 0, 0
		return a
	case k < 4:
		a.Result, a.Refusal = events.Result_RESULT_REFUSED, events.Refusal_REFUSAL_CLIENT_BANNED
		return a
	case k < 5:
		a.UserId = uint64(g.Users + 1 + r.IntN(10)) // not in Postgres: the ledger parks it
	}
	a.DeltaUploaded = uint64(r.IntN(8 << 20))
	a.DeltaDownloaded = uint64(r.IntN(4 << 20))
	a.CreditedUploaded, a.CreditedDownloaded = a.DeltaUploaded, a.DeltaDownloaded
	if r.IntN(4) == 0 {
		a.Promotion = &events.Promotion{Name: "free+2x", DownloadPercent: 0, UploadPercent: 200}
		a.CreditedUploaded, a.CreditedDownloaded = 2*a.DeltaUploaded, 0
	}
	a.SecondsSincePrevious = uint32(1800 + r.IntN(60))
	a.Left = uint64(r.IntN(2)) * uint64(r.IntN(1<<30))
	if a.Left == 0 {
		a.SeedtimeSeconds = a.SecondsSincePrevious
	}
	a.Snatch = a.Event == events.Event_EVENT_COMPLETED
	return a
}

func fill(n int, b byte) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// Dataset is a generated stream: the messages in production order and the truth.
type Dataset struct {
	Msgs  []Msg
	Truth *Truth
	// Dups: messages that repeat an earlier event (same id, later offset).
	Dups int
}

// NewDataset generates n distinct events, then repeats dupEvery-th of them
// later in the stream (a producer retry or spool replay: same id, another
// offset), and mixes in garbage undecodable messages. Keys are the user id,
// as the tracker keys them.
func NewDataset(seed uint64, n, users, torrents, dupEvery, garbage int) *Dataset {
	g := NewGen(seed, users, torrents, time.Now().UTC().Add(-3*time.Hour).Truncate(time.Hour))
	tr := &Truth{ByUser: map[uint64]*Sums{}, Known: map[uint64]bool{}, Pairs: map[[2]uint64]bool{}}
	for u := 1; u <= users; u++ {
		tr.Known[uint64(u)] = true
	}
	ds := &Dataset{Truth: tr}
	var pending []Msg
	rng := rand.New(rand.NewPCG(seed+1, seed+2))
	for i := 0; i < n; i++ {
		a := g.Next()
		v, err := events.Encode(a)
		if err != nil {
			panic(err)
		}
		m := Msg{Key: []byte(strconv.FormatUint(a.GetUserId(), 10)), Value: v}
		ds.Msgs = append(ds.Msgs, m)
		tr.count(a)
		if dupEvery > 0 && i%dupEvery == 0 {
			pending = append(pending, m)
		}
		if len(pending) > 0 && rng.IntN(50) == 0 {
			ds.Msgs = append(ds.Msgs, pending...)
			ds.Dups += len(pending)
			pending = nil
		}
		if garbage > 0 && rng.IntN(max(1, n/garbage)) == 0 && tr.Garbage < uint64(garbage) {
			junk := make([]byte, 1+rng.IntN(64))
			for j := range junk {
				junk[j] = byte(rng.Uint32())
			}
			junk[0] = 0xff // never a valid protobuf tag start
			ds.Msgs = append(ds.Msgs, Msg{Key: []byte("garbage"), Value: junk})
			tr.Garbage++
		}
	}
	ds.Msgs = append(ds.Msgs, pending...)
	ds.Dups += len(pending)
	return ds
}

func (tr *Truth) count(a *events.Announce) {
	tr.Events++
	tr.DeltaUp += a.GetDeltaUploaded()
	tr.CredUpAll += a.GetCreditedUploaded()
	if a.GetResult() != events.Result_RESULT_ACCEPTED || a.GetUserId() == 0 {
		return
	}
	tr.Accepted++
	s := tr.ByUser[a.GetUserId()]
	if s == nil {
		s = &Sums{}
		tr.ByUser[a.GetUserId()] = s
	}
	s.add(a)
	if tr.Known[a.GetUserId()] {
		tr.Pairs[[2]uint64{a.GetUserId(), a.GetTorrentId()}] = true
	}
}
