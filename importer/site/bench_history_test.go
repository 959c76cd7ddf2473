package site

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/testenv"
)

// historyFile is a site of members, each with an opening balance, perMember
// snatches and one active peer, over torrents.
func historyFile(members, torrents, perMember int) *File {
	f := &File{Members: make([]Member, members), Torrents: make([]Torrent, torrents)}
	hash := func(i int) (h [20]byte) {
		binary.BigEndian.PutUint64(h[12:], uint64(i)+1)
		return h
	}
	for i := range f.Torrents {
		f.Torrents[i] = Torrent{Index: i, InfoHash: hash(i), Name: fmt.Sprint("torrent ", i), Size: 1 << 30}
	}
	done := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range f.Members {
		snatches := make([]Snatch, perMember)
		for k := range snatches {
			last := done.Add(time.Duration(k) * time.Hour)
			snatches[k] = Snatch{InfoHash: hash((i*perMember + k) % torrents), Completed: done, Seedtime: int64(k) * 3600,
				LastSeeded: &last, Downloaded: 1 << 30}
		}
		var pid [20]byte
		copy(pid[:], fmt.Sprintf("-qB4650-%012d", i))
		peers := []Peer{{InfoHash: hash(i % torrents), PeerID: pid, Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 51413),
			Uploaded: int64(i) << 20, Announced: done}}
		f.Members[i] = Member{Index: i, Name: fmt.Sprintf("member%05d", i), Passkey: fmt.Sprintf("%032x", i), Class: "User",
			Opening:  &Opening{Uploaded: int64(i) << 30, Downloaded: int64(i) << 29, Seedtime: int64(i) * 3600, Bonus: float64(i) / 4},
			Snatches: &snatches, Peers: &peers}
	}
	return f
}

// BenchmarkImportSiteHistory: 10,000 members with their opening balances,
// 10 snatches each and an active peer, over 20,000 torrents, into an empty
// Postgres (s/first), then the same file again, which writes nothing
// (s/again).
func BenchmarkImportSiteHistory(b *testing.B) {
	const members, torrents, perMember = 10_000, 20_000, 10
	f := historyFile(members, torrents, perMember)
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		pg := testenv.Postgres(b)
		b.StartTimer()
		for pass, metric := range []string{"s/first", "s/again"} {
			s, err := Import(ctx, pg.Pool, f, Options{})
			if err != nil {
				b.Fatal(err)
			}
			h := s.History
			if pass == 0 && (h.OpeningsWritten != members || h.SnatchesWritten != members*perMember || h.PeersWritten != members) ||
				pass == 1 && h.OpeningsWritten+h.OpeningsRevised+h.SnatchesWritten+h.PeersWritten != 0 {
				b.Fatalf("pass %d: %+v", pass, h)
			}
			b.ReportMetric(s.Seconds, metric)
		}
	}
}
