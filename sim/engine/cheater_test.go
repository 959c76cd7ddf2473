package engine

import (
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/sim/population"
	"github.com/ratioguard/ratioguard/sim/spec"
)

// Each cheat leaves the trace it should, only after its start time.
func TestCheatersActAfterTheirStart(t *testing.T) {
	s := spec.Default()
	s.Duration = 96 * time.Hour
	s.Cheaters.StartFrom, s.Cheaters.StartTo = 0.1, 0.3
	_, p, all := run(t, s, Options{})
	byID := map[uint32]*population.Agent{}
	for _, a := range p.Agents {
		byID[a.ID] = a
	}
	naivePeerIDs := map[uint64]map[[20]byte]bool{}
	pairTorrents := map[uint64]map[uint64]bool{}
	seen := map[population.Behavior]int{}
	for _, a := range all {
		ag := byID[a.AgentID]
		m := ag.Member
		if ag.Behavior != population.Honest || ag.Stranger || ag.From.After(p.Start) {
			if m.Cheat == "" {
				t.Fatalf("agent %d of honest member %d cheats", ag.ID, m.ID)
			}
			if a.Time.Before(m.CheatStart) {
				t.Fatalf("%s agent of member %d announces at %s before its start %s", m.Cheat, m.ID, a.Time, m.CheatStart)
			}
		}
		seen[ag.Behavior]++
		switch ag.Behavior {
		case population.NaiveFake:
			if naivePeerIDs[m.ID] == nil {
				naivePeerIDs[m.ID] = map[[20]byte]bool{}
			}
			naivePeerIDs[m.ID][a.PeerID] = true
			if a.Left != 0 || a.Downloaded != 0 {
				t.Fatalf("naive faker reports left %d downloaded %d", a.Left, a.Downloaded)
			}
		case population.Ghost:
			if a.Downloaded != 0 {
				t.Fatalf("ghost leecher reports %d downloaded", a.Downloaded)
			}
		case population.Collude:
			if pairTorrents[m.ID] == nil {
				pairTorrents[m.ID] = map[uint64]bool{}
			}
			pairTorrents[m.ID][a.TorrentID] = true
		}
	}
	for id, ids := range naivePeerIDs {
		if len(ids) != 1 {
			t.Errorf("naive faker %d used %d peer_ids, want one fixed", id, len(ids))
		}
	}
	for _, m := range p.Members {
		if m.Cheat != population.Colluder {
			continue
		}
		common := 0
		for tor := range pairTorrents[m.ID] {
			if pairTorrents[m.Partner.ID][tor] {
				common++
			}
		}
		if common == 0 {
			t.Errorf("colluders %d and %d share no torrent", m.ID, m.Partner.ID)
		}
	}
	for _, b := range []population.Behavior{population.NaiveFake, population.CarefulFake, population.Collude, population.Ghost, population.LeechOnly} {
		if seen[b] == 0 {
			t.Errorf("no announce with behavior %d", b)
		}
	}
}
