package state_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/importer/site"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/core"
)

// At cutover the site file brings each active peer's last counters on the
// old tracker; the tracker started within its window takes them as the
// sessions' baselines, so a peer's first announce here is credited with
// what it moved since its last announce there — and only that. A peer whose
// last announce there is older than the window is not loaded (its first
// announce here is a new session, credited nothing). A peer imported without
// a port (Gazelle's) is a baseline all the same.
func TestImportedPeersAreBaselines(t *testing.T) {
	pg := testenv.Postgres(t)
	w := newWorld(t, 3, 1)
	w.pool = pg.Pool
	const gib, mib = uint64(1) << 30, uint64(1) << 20
	now := time.Now()
	peer := func(u int) [20]byte {
		var p [20]byte
		copy(p[:], fmt.Sprintf("-TR3000-%012d", u))
		return p
	}
	ih := infoHash(1)
	var members []map[string]any
	for i, ts := range []time.Time{now.Add(-20 * time.Second), now.Add(-10 * time.Minute), now.Add(-30 * time.Second)} {
		u, p := i+1, peer(i+1)
		sp := map[string]any{"info_hash": hex.EncodeToString(ih[:]), "peer_id": hex.EncodeToString(p[:]),
			"ip": fmt.Sprintf("10.1.%d.1", u), "port": 51413, "uploaded": 5 * gib, "downloaded": gib, "left": 0, "ts": ts.Unix()}
		if u == 3 {
			delete(sp, "port") // unknown: port 0
		}
		members = append(members, map[string]any{"name": fmt.Sprint("member", u), "passkey": passkey(uint64(u)), "class": "User",
			"site_id": u, "peers": []map[string]any{sp}})
	}
	doc, err := json.Marshal(map[string]any{"members": members,
		"torrents": []map[string]any{{"info_hash": hex.EncodeToString(ih[:]), "name": "t", "size": 1 << 30}}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := site.Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	s, err := site.Import(context.Background(), pg.Pool, f, site.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.History.Peers != 3 || s.History.PeersWritten != 3 {
		t.Fatalf("import: %+v", s.History)
	}
	// The world's policy addresses members and the torrent by these ids.
	var bad int
	if err := pg.Pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM users WHERE id::text <> substr(name, 7))
		+ (SELECT count(*) FROM torrents WHERE id <> 1)`).Scan(&bad); err != nil || bad != 0 {
		t.Fatalf("ids differ from the policy's: %d, %v", bad, err)
	}

	in := w.start(t, "a", time.Hour)
	if in.restored.SitePeers != 2 {
		t.Fatalf("restored %+v: want the two peers within the window", in.restored)
	}
	for u := 1; u <= 3; u++ {
		p := peer(u)
		ans := &core.Answer{}
		in.core.Announce(&core.Request{Passkey: passkey(uint64(u)), InfoHash: ih[:], PeerID: p[:],
			Addr: netip.AddrFrom4([4]byte{10, 1, byte(u), 1}), Port: 51413, Uploaded: 5*gib + uint64(u)*100*mib, Downloaded: gib + uint64(u)*mib,
			Event: events.Event_EVENT_NONE}, ans)
		if ans.Failure != "" {
			t.Fatalf("member %d: %s", u, ans.Failure)
		}
	}
	in.stop()
	up, down, _ := credited(t, w)
	if up[1] != 100*mib || down[1] != mib {
		t.Errorf("member 1 credited %d up, %d down: want the 100 MiB and 1 MiB moved since the old tracker's last announce", up[1], down[1])
	}
	if up[3] != 300*mib || down[3] != 3*mib {
		t.Errorf("member 3 (imported without a port) credited %d up, %d down: want the 300 MiB and 3 MiB moved since", up[3], down[3])
	}
	if up[2] != 0 || down[2] != 0 {
		t.Errorf("member 2 (old tracker's announce outside the window) credited %d up, %d down: want nothing", up[2], down[2])
	}
}
