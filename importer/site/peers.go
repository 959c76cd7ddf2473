package site

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
)

// peerKey is a peer of a member: torrent and peer id.
type peerKey struct {
	torrent int64
	peer    [20]byte
}

// peers writes the old tracker's active peers of the file's members (ids,
// in file order), each member's list replacing the kept one. A member
// ratioguard has already credited is left alone: its sessions here carry
// newer counters than the old tracker's.
func (im *importer) peers(ctx context.Context, ids []int64, tids map[[20]byte]int64) error {
	c := &im.s.History
	var with []int64
	for i, m := range im.f.Members {
		if m.Peers != nil {
			c.PeerMembers++
			c.Peers += len(*m.Peers)
			with = append(with, ids[i])
		}
	}
	if len(with) == 0 {
		return nil
	}
	have, announces, err := im.keptPeers(ctx, with)
	if err != nil {
		return err
	}
	var w struct {
		users, torrents, up, down, left []int64
		peers                           [][]byte
		ips                             []string
		ports                           []int32
		ts                              []time.Time
	}
	var du, dt []int64
	var dp [][]byte
	sets := map[int64]bool{}  // members whose kept peers change
	listed := map[int64]int{} // their new number of peers
	for i, m := range im.f.Members {
		if m.Peers == nil {
			continue
		}
		id := ids[i]
		if announces[id] > 0 {
			if !samePeers(have[id], *m.Peers, tids) {
				c.MembersKept++
			}
			continue
		}
		if !samePeers(have[id], *m.Peers, tids) {
			sets[id], listed[id] = true, len(*m.Peers)
		}
		want := make(map[peerKey]bool, len(*m.Peers))
		for _, p := range *m.Peers {
			k := peerKey{tids[p.InfoHash], p.PeerID}
			want[k] = true
			if old, ok := have[id][k]; ok && samePeer(old, p) {
				continue
			}
			w.users, w.torrents, w.peers = append(w.users, id), append(w.torrents, k.torrent), append(w.peers, p.PeerID[:])
			w.ips, w.ports = append(w.ips, p.Addr.Addr().String()), append(w.ports, int32(p.Addr.Port()))
			w.up, w.down, w.left, w.ts = append(w.up, p.Uploaded), append(w.down, p.Downloaded), append(w.left, p.Left), append(w.ts, p.Announced)
		}
		for k := range have[id] {
			if !want[k] {
				du, dt, dp = append(du, id), append(dt, k.torrent), append(dp, k.peer[:])
			}
		}
	}
	if len(du) > 0 {
		if _, err := im.tx.Exec(ctx, query("peers_delete"), du, dt, dp); err != nil {
			return fmt.Errorf("import site: remove %d old tracker peers: %w", len(du), err)
		}
	}
	if len(w.users) > 0 {
		if _, err := im.tx.Exec(ctx, query("peers_upsert"), w.users, w.torrents, w.peers, w.ips, w.ports, w.up, w.down, w.left, w.ts); err != nil {
			return fmt.Errorf("import site: write %d old tracker peers: %w", len(w.users), err)
		}
	}
	c.PeersWritten, c.PeersRemoved = len(w.users), len(du)
	im.setChanges(sets, "peers", func(id int64) (string, string) {
		return fmt.Sprintf("%d peers", len(have[id])), fmt.Sprintf("%d peers", listed[id])
	})
	return nil
}

func samePeer(a, b Peer) bool {
	return a.Addr == b.Addr && a.Uploaded == b.Uploaded && a.Downloaded == b.Downloaded && a.Left == b.Left &&
		a.Announced.Equal(b.Announced)
}

func samePeers(have map[peerKey]Peer, list []Peer, tids map[[20]byte]int64) bool {
	if len(have) != len(list) {
		return false
	}
	for _, p := range list {
		if old, ok := have[peerKey{tids[p.InfoHash], p.PeerID}]; !ok || !samePeer(old, p) {
			return false
		}
	}
	return true
}

// keptPeers reads the peers kept for members ids and the announces
// ratioguard has credited each.
func (im *importer) keptPeers(ctx context.Context, ids []int64) (map[int64]map[peerKey]Peer, map[int64]int64, error) {
	have := make(map[int64]map[peerKey]Peer, len(ids))
	rows, err := im.tx.Query(ctx, query("peers_select"), ids)
	if err != nil {
		return nil, nil, fmt.Errorf("import site: read the kept old tracker peers: %w", err)
	}
	var (
		uid, tid, up, down, left int64
		pid                      []byte
		ip                       string
		port                     int32
		ts                       time.Time
	)
	if _, err := pgx.ForEachRow(rows, []any{&uid, &tid, &pid, &ip, &port, &up, &down, &left, &ts}, func() error {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return fmt.Errorf("peer address %q: %w", ip, err)
		}
		if have[uid] == nil {
			have[uid] = map[peerKey]Peer{}
		}
		have[uid][peerKey{tid, [20]byte(pid)}] = Peer{PeerID: [20]byte(pid), Addr: netip.AddrPortFrom(a, uint16(port)),
			Uploaded: up, Downloaded: down, Left: left, Announced: ts}
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("import site: read the kept old tracker peers: %w", err)
	}
	announces := make(map[int64]int64, len(ids))
	rows, err = im.tx.Query(ctx, query("members_announces"), ids)
	if err != nil {
		return nil, nil, fmt.Errorf("import site: read the members' announces: %w", err)
	}
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&uid, &n}, func() error { announces[uid] = n; return nil }); err != nil {
		return nil, nil, fmt.Errorf("import site: read the members' announces: %w", err)
	}
	return have, announces, nil
}
