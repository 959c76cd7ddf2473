package engine

import (
	"context"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/sim/clients"
	"github.com/ratioguard/ratioguard/sim/population"
	"github.com/ratioguard/ratioguard/sim/spec"
)

func run(t *testing.T, s *spec.Spec, opts Options) (*Engine, *population.Population, []clients.Announce) {
	t.Helper()
	p, err := population.Build(s, s.Start, s.Start.Add(s.Duration))
	if err != nil {
		t.Fatal(err)
	}
	e := New(s, p, opts)
	var all []clients.Announce
	err = e.Run(context.Background(), Instant{}, func(_ context.Context, b []clients.Announce) error {
		all = append(all, b...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return e, p, all
}

type sessKey struct {
	agent   uint32
	torrent uint64
	peer    [20]byte
}

// Every byte an honest peer reports uploading is reported downloaded by
// another peer of the same swarm, once every client has shut down cleanly
// (no lost `stopped`, so nothing transferred goes unreported).
func TestHonestSwarmsConserveBytes(t *testing.T) {
	s := spec.Default()
	s.Duration = 48 * time.Hour
	s.Behavior.LostStopped = 0
	e, p, all := run(t, s, Options{FlushAtEnd: true})

	honest := map[uint32]bool{}
	for _, a := range p.Agents {
		honest[a.ID] = a.Behavior == population.Honest || a.Behavior == population.LeechOnly
	}
	type sums struct {
		up, down int64
		dirty    bool
	}
	bySwarm := map[uint64]*sums{}
	last := map[sessKey][2]uint64{}
	prevTime := time.Time{}
	for _, a := range all {
		if a.Time.Before(prevTime) {
			t.Fatalf("announces out of time order: %s after %s", a.Time, prevTime)
		}
		prevTime = a.Time
		sw := bySwarm[a.TorrentID]
		if sw == nil {
			sw = &sums{}
			bySwarm[a.TorrentID] = sw
		}
		if !honest[a.AgentID] {
			sw.dirty = true
			continue
		}
		k := sessKey{a.AgentID, a.TorrentID, a.PeerID}
		prev := last[k]
		if a.Event == clients.EventStarted {
			prev = [2]uint64{}
		}
		if a.Uploaded < prev[0] || a.Downloaded < prev[1] {
			t.Fatalf("honest counters went down without a restart: %+v after %v", a, prev)
		}
		sw.up += int64(a.Uploaded - prev[0])
		sw.down += int64(a.Downloaded - prev[1])
		last[k] = [2]uint64{a.Uploaded, a.Downloaded}
	}
	truth := map[uint64][2]int64{}
	for _, st := range e.SwarmTotals() {
		if st.Uploaded != st.Download {
			t.Fatalf("swarm %d moved %d up but %d down", st.Torrent, st.Uploaded, st.Download)
		}
		truth[p.Torrents[st.Torrent].ID] = [2]int64{st.Uploaded, st.Download}
	}
	checked := 0
	for id, sw := range bySwarm {
		if sw.dirty || sw.up == 0 {
			continue
		}
		checked++
		if sw.up != sw.down {
			t.Errorf("honest swarm %d: reported %d uploaded, %d downloaded", id, sw.up, sw.down)
		}
		if tr := truth[id]; tr[0] != sw.up {
			t.Errorf("honest swarm %d: reported %d, really moved %d", id, sw.up, tr[0])
		}
	}
	if checked < 10 {
		t.Fatalf("only %d honest swarms with traffic: the test proves little", checked)
	}
	t.Logf("%d announces, %d honest swarms conserve bytes; %+v", len(all), checked, e.Stats())
}

func TestRunIsDeterministic(t *testing.T) {
	s := spec.Default()
	s.Duration = 12 * time.Hour
	_, _, a := run(t, s, Options{})
	_, _, b := run(t, s, Options{})
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("runs emitted %d and %d announces", len(a), len(b))
	}
	for i := range a {
		if a[i].Query() != b[i].Query() || a[i].Time != b[i].Time || a[i].IP != b[i].IP {
			t.Fatalf("announce %d differs:\n%s %s\n%s %s", i, a[i].Time, a[i].Query(), b[i].Time, b[i].Query())
		}
	}
}

func TestDistributeIsExact(t *testing.T) {
	caps := []int64{7, 0, 13, 1, 1 << 40}
	var sum int64
	for _, c := range caps {
		sum += c
	}
	orig := append([]int64(nil), caps...)
	distribute(12345, caps, sum)
	var got int64
	for i, c := range caps {
		if c < 0 || c > orig[i] {
			t.Fatalf("share %d = %d outside [0,%d]", i, c, orig[i])
		}
		got += c
	}
	if got != 12345 {
		t.Fatalf("shares sum to %d, want 12345", got)
	}
}
