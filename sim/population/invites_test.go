package population_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/ratioguard/ratioguard/sim/population"
	"github.com/ratioguard/ratioguard/sim/spec"
)

func buildSmall(t *testing.T) *population.Population {
	t.Helper()
	s, err := spec.Load("../specs/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := population.Build(s, s.Start, s.Start.Add(s.Duration))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func isBad(m *population.Member) bool {
	return m.Cheat == population.SharedAccount || m.Cheat == population.SoldAccount || m.Cheat == population.LeakedPasskey
}

// The invite tree is a forest drawn from the seed; invite sellers carry
// most of the shared and sold accounts, popular inviters a crowd of honest
// invitees, households their own members, and no other inviter has two bad
// invitees.
func TestInviteTree(t *testing.T) {
	p := buildSmall(t)
	invitees := map[*population.Member][]*population.Member{}
	founders := 0
	for _, m := range p.Members {
		if m.InvitedBy == nil {
			founders++
			continue
		}
		invitees[m.InvitedBy] = append(invitees[m.InvitedBy], m)
		// No cycle: walking up ends at a founder.
		seen := map[*population.Member]bool{}
		for a := m; a != nil; a = a.InvitedBy {
			if seen[a] {
				t.Fatalf("member %d is in an invite cycle", m.Index)
			}
			seen[a] = true
		}
	}
	if want := len(p.Members) / 20; founders < want || founders > want+5 {
		t.Errorf("%d founders, want about %d (invites.founders 0.05)", founders, want)
	}
	var sellers, popular, family, sellable, sold int
	for _, m := range p.Members {
		if m.Cheat == population.SharedAccount || m.Cheat == population.SoldAccount {
			sellable++
			if m.InvitedBy.Cheat == population.InviteSeller {
				sold++
			}
		}
		bad := 0
		for _, i := range invitees[m] {
			if isBad(i) {
				bad++
			}
		}
		switch {
		case m.Cheat == population.InviteSeller:
			sellers++
			if bad < 2 || 2*bad < len(invitees[m]) {
				t.Errorf("invite seller %d: %d bad of %d invitees", m.Index, bad, len(invitees[m]))
			}
			if m.CheatStart.Before(p.Start) || !m.CheatStart.Before(p.End) || len(m.Lookalikes) > 0 {
				t.Errorf("invite seller %d starts at %s, look-alikes %v", m.Index, m.CheatStart, m.Lookalikes)
			}
			continue
		case slices.Contains(m.Lookalikes, population.PopularInviter):
			popular++
			if len(invitees[m]) < 20 || bad > 2 {
				t.Errorf("popular inviter %d: %d bad of %d invitees", m.Index, bad, len(invitees[m]))
			}
			continue
		case slices.Contains(m.Lookalikes, population.FamilyInviter):
			family++
			if !slices.ContainsFunc(invitees[m], func(i *population.Member) bool { return i.Agents[0].Net.V4 == m.Agents[0].Net.V4 }) {
				t.Errorf("family inviter %d shares no address with its invitees", m.Index)
			}
		}
		if bad > 1 {
			t.Errorf("ordinary inviter %d (%s) has %d bad invitees", m.Index, m.Cheat, bad)
		}
	}
	if sellers != 2 || popular != 2 || family == 0 {
		t.Errorf("%d sellers, %d popular inviters, %d family inviters; want 2, 2, some", sellers, popular, family)
	}
	if 4*sold < 3*sellable {
		t.Errorf("sellers invited %d of %d shared and sold accounts, want 80%%", sold, sellable)
	}
	t.Logf("%d founders, %d sellers with %d of %d shared/sold accounts, %d popular, %d family inviters", founders, sellers, sold, sellable, popular, family)

	again := buildSmall(t)
	for i, m := range p.Members {
		a, b := m.InvitedBy, again.Members[i].InvitedBy
		if (a == nil) != (b == nil) || a != nil && a.Index != b.Index || !reflect.DeepEqual(m.Lookalikes, again.Members[i].Lookalikes) {
			t.Fatalf("same seed, member %d invited differently", i)
		}
	}
}
