package population

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"
)

// inviteStream seeds the invite tree's own random stream: it is drawn after
// everything else and changes no other draw, so a seed's traffic stays what it
// was before the simulator had invite trees.
const inviteStream = 0x1a7173e5

// invites draws the invite tree (see spec.InviteSpec): invite sellers with
// most of the shared and sold accounts, popular inviters with a crowd of
// honest invitees and a bad one or two, households invited by their first
// member, founders without an inviter, and everyone else invited by an older
// member. Every bad account (leaked, shared, sold) not under a seller or a
// popular inviter gets an inviter with no other bad invitee. The tree has no
// cycle: a placed inviter's own inviter is a founder, and every other member
// is invited by a member before it.
func (b *builder) invites() error {
	inv, c := b.s.Invites, b.s.Cheaters
	t := &inviteTree{r: rand.New(rand.NewPCG(b.s.Seed, inviteStream)), placed: map[*Member]bool{},
		special: map[*Member]bool{}, hasBad: map[*Member]bool{}, bad: map[*Member]bool{}}
	var sellable, unsold []*Member
	for _, m := range b.pop.Members {
		switch m.Cheat {
		case SharedAccount, SoldAccount:
			sellable = append(sellable, m)
			t.bad[m] = true
		case LeakedPasskey:
			unsold = append(unsold, m)
			t.bad[m] = true
		case "":
			if len(m.Lookalikes) == 0 {
				t.free = append(t.free, m)
			}
		}
	}
	if need := c.InviteSeller + inv.Popular; len(t.free) < need {
		return fmt.Errorf("build invite tree: %d members without a cheat or look-alike for %d invite sellers and %d popular inviters",
			len(t.free), c.InviteSeller, inv.Popular)
	}
	shuffle(t.r, sellable)
	shuffle(t.r, t.free)

	sellers := make([]*Member, c.InviteSeller)
	for i := range sellers {
		sellers[i] = t.take()
		sellers[i].Cheat, sellers[i].CheatStart = InviteSeller, time.Time{}
		t.special[sellers[i]] = true
	}
	nSell := 0
	if len(sellers) > 0 {
		nSell = min(len(sellable), max(2*len(sellers), int(math.Round(inv.SellerShare*float64(len(sellable))))))
	}
	for i, m := range sellable[:nSell] {
		s := sellers[i%len(sellers)]
		t.invite(s, m)
		if s.CheatStart.IsZero() || m.CheatStart.Before(s.CheatStart) {
			s.CheatStart = m.CheatStart
		}
	}
	for _, s := range sellers {
		if s.CheatStart.Before(b.pop.Start) {
			s.CheatStart = b.pop.Start
		}
		for k := t.r.IntN(inv.SellerHonest + 1); k > 0 && len(t.free) > 0; k-- {
			t.invite(s, t.take())
		}
	}
	unsold = append(unsold, sellable[nSell:]...)
	shuffle(t.r, unsold)

	for i := 0; i < inv.Popular; i++ {
		h := t.take()
		h.Lookalikes = append(h.Lookalikes, PopularInviter)
		t.special[h] = true
		for k := 0; k < inv.PopularInvitees && len(t.free) > 0; k++ {
			t.invite(h, t.take())
		}
		for k := 0; k < inv.PopularBad && len(unsold) > 0; k++ {
			t.invite(h, unsold[0])
			unsold = unsold[1:]
			t.hasBad[h] = true
		}
	}

	heads := map[netip.Addr]*Member{}
	for _, m := range b.pop.Members {
		if m.Cheat != "" || !slices.Contains(m.Lookalikes, NATHousehold) || t.placed[m] {
			continue
		}
		ip := m.Agents[0].Net.V4
		h := heads[ip]
		if h == nil {
			heads[ip] = m
			continue
		}
		if !t.special[h] {
			h.Lookalikes = append(h.Lookalikes, FamilyInviter)
			t.special[h] = true
		}
		t.invite(h, m)
	}

	t.rest(b.pop.Members, max(1, int(math.Round(inv.Founders*float64(len(b.pop.Members))))))
	return nil
}

// inviteTree is the state of invites while it draws.
type inviteTree struct {
	r       *rand.Rand
	free    []*Member        // honest members without look-alikes not placed yet
	placed  map[*Member]bool // invitees placed on purpose
	special map[*Member]bool // inviters placed on purpose (their inviter is a founder)
	bad     map[*Member]bool // leaked, shared and sold accounts
	hasBad  map[*Member]bool // inviters that already have a bad invitee
}

func (t *inviteTree) take() *Member {
	m := t.free[0]
	t.free = t.free[1:]
	return m
}

func (t *inviteTree) invite(by, m *Member) {
	m.InvitedBy = by
	t.placed[m] = true
}

// rest gives every member not placed an inviter, in member order (the
// join order): the first nFounders are founders; a placed inviter is
// invited by a founder; a bad account by an older member without another
// bad invitee; anyone else by any older member but a seller.
func (t *inviteTree) rest(members []*Member, nFounders int) {
	var founders, older []*Member
	for _, m := range members {
		if t.placed[m] {
			older = t.older(older, m)
			continue
		}
		switch {
		case len(founders) < nFounders:
			founders = append(founders, m)
		case t.special[m]:
			m.InvitedBy = founders[t.r.IntN(len(founders))]
		case t.bad[m]:
			var ok []*Member
			for _, o := range older {
				if !t.hasBad[o] {
					ok = append(ok, o)
				}
			}
			if len(ok) == 0 {
				ok = founders
			}
			m.InvitedBy = ok[t.r.IntN(len(ok))]
			t.hasBad[m.InvitedBy] = true
		case len(older) > 0:
			m.InvitedBy = older[t.r.IntN(len(older))]
		default: // the only founders are sellers
			m.InvitedBy = founders[t.r.IntN(len(founders))]
		}
		older = t.older(older, m)
	}
}

// older adds m to the members later ones may be invited by (not sellers:
// their invitees are placed on purpose).
func (t *inviteTree) older(older []*Member, m *Member) []*Member {
	if m.Cheat == InviteSeller {
		return older
	}
	return append(older, m)
}

func shuffle(r *rand.Rand, ms []*Member) {
	r.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
}
