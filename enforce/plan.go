package enforce

import (
	"math"
	"time"

	"github.com/ratioguard/ratioguard/enforce/rules"
	"github.com/ratioguard/ratioguard/enforce/store"
)

// memberSim follows one member through the plan so each change can say
// whether it will flip leeching, exactly as the store will decide it.
type memberSim struct {
	m            *store.Member
	enabled      bool
	canLeech     bool
	held         bool
	ratioBlocked bool
	warnings     int
	cheatBlocks  int
	touched      bool
}

func (s *memberSim) blocked(cfg rules.Config) bool {
	return s.ratioBlocked || s.warnings >= cfg.HnR.WarningsToDisable || s.cheatBlocks > 0
}

// leech applies the hold logic of store.syncLeech and returns the note for
// the change that caused it ("" when leeching does not flip).
func (s *memberSim) leech(cfg rules.Config) string {
	s.touched = true
	switch b := s.blocked(cfg); {
	case b && !s.held && s.canLeech:
		s.held, s.canLeech = true, false
		return "leeching disabled"
	case !b && s.held:
		s.held, s.canLeech = false, true
		return "leeching restored"
	}
	return ""
}

// planner builds the changes of one pass from a snapshot.
type planner struct {
	cfg  rules.Config
	now  time.Time
	sims map[int64]*memberSim
}

func (p *planner) sim(userID int64) *memberSim {
	s, ok := p.sims[userID]
	if !ok { // not in the member list (no ledger row, no state): defaults
		s = &memberSim{m: &store.Member{ID: userID, Enabled: true, CanLeech: true}, enabled: true, canLeech: true}
		p.sims[userID] = s
	}
	return s
}

// Plan decides every change of one pass: verdicts first (they change the
// figures and may disable accounts), then hit-and-run lifts and warnings,
// the ratio watch, leech holds left without a block, and the seeding bonus.
func Plan(snap *store.Snapshot, cfg rules.Config, now time.Time) []store.Change {
	p := &planner{cfg: cfg, now: now, sims: make(map[int64]*memberSim, len(snap.Members))}
	for i := range snap.Members {
		m := &snap.Members[i]
		p.sims[m.ID] = &memberSim{m: m, enabled: m.Enabled, canLeech: m.CanLeech, held: m.Held,
			ratioBlocked: m.Watch.State == rules.WatchDisabled, warnings: m.ActiveWarnings, cheatBlocks: m.CheatBlocks}
	}
	var out []store.Change
	out = append(out, p.verdicts(snap.Reports)...)
	out = append(out, p.hnr(snap.Lifts, snap.Candidates)...)
	out = append(out, p.ratio(snap.Members)...)
	out = append(out, p.leechLeftovers(snap.Members)...)
	out = append(out, p.bonus(snap.Seeding)...)
	return out
}

func (p *planner) verdicts(reports []store.Report) []store.Change {
	var out []store.Change
	for _, r := range reports {
		c := store.VerdictChange{Report: r}
		if r.Check() == nil {
			s := p.sim(*r.UserID)
			for _, v := range r.Verdict {
				switch v {
				case store.VerdictReverseCredit:
					s.m.Uploaded -= float64(deref(r.ReverseUploaded))
					s.m.Downloaded += float64(deref(r.ReverseDownloaded))
				case store.VerdictDisableLeech:
					s.cheatBlocks++
					c.LeechNote = s.leech(p.cfg)
				case store.VerdictDisableAccount:
					s.enabled = false
				}
			}
		}
		out = append(out, c)
	}
	return out
}

func deref(v *int64) int64 {
	if v == nil {
		return 0
	}
	return *v
}

func (p *planner) hnr(lifts []store.Warning, candidates []store.Candidate) []store.Change {
	var out []store.Change
	for _, w := range lifts {
		reason := p.cfg.HnR.LiftReason(w.ExpiresAt, w.Seedtime, p.now)
		if reason == "" {
			continue
		}
		s := p.sim(w.UserID)
		s.warnings--
		out = append(out, store.HnRLift{Warning: w, Reason: reason, LeechNote: s.leech(p.cfg)})
	}
	for _, c := range candidates {
		if !p.cfg.HnR.Enabled {
			break
		}
		s := p.sim(c.UserID)
		if !s.enabled || !p.cfg.HnR.ShouldWarn(c.Snatch, p.now) {
			continue
		}
		s.warnings++
		out = append(out, store.HnRWarn{Candidate: c, Deadline: p.cfg.HnR.Deadline(c.Started),
			ExpiresAt: p.cfg.HnR.Expiry(c.Started), LeechNote: s.leech(p.cfg)})
	}
	return out
}

func (p *planner) ratio(members []store.Member) []store.Change {
	var out []store.Change
	for i := range members {
		s := p.sims[members[i].ID]
		if !s.enabled {
			continue
		}
		m := *s.m
		d := p.cfg.Ratio.Decide(rules.RatioInput{
			Exempt:   rules.Exempt(m.Class, p.cfg.Ratio.ExemptClasses),
			Uploaded: m.Uploaded, Downloaded: m.Downloaded, Snatches: m.Snatches, Seeded: m.Seeded, Watch: m.Watch,
			UnseenPast: m.UnseenPast,
		}, p.now)
		if d.Action == rules.WatchKeep {
			continue
		}
		c := store.RatioChange{Member: m, Decision: d}
		switch d.Action {
		case rules.WatchStart:
			c.EndsAt = p.now.Add(p.cfg.Ratio.Watch())
		case rules.WatchDisableDownload, rules.WatchDisableExpired:
			s.ratioBlocked = true
			c.LeechNote = s.leech(p.cfg)
		default: // cleared or restored
			s.ratioBlocked = false
			c.LeechNote = s.leech(p.cfg)
		}
		out = append(out, c)
	}
	return out
}

// leechLeftovers releases holds no block justifies any more (a verdict's
// block deleted by staff) and places holds a block calls for but that are
// missing; members a change already went through are in order.
func (p *planner) leechLeftovers(members []store.Member) []store.Change {
	var out []store.Change
	for i := range members {
		s := p.sims[members[i].ID]
		if s.touched {
			continue
		}
		b := s.blocked(p.cfg)
		if (s.held && !b) || (b && !s.held && s.canLeech) {
			s.leech(p.cfg)
			out = append(out, store.LeechSync{UserID: s.m.ID, Member: s.m.Name})
		}
	}
	return out
}

func (p *planner) bonus(rows []store.Seeding) []store.Change {
	var out []store.Change
	var cur *store.BonusAccrual
	flush := func() {
		if cur != nil && cur.Total > 0 {
			cur.Total = math.Round(cur.Total*1e4) / 1e4
			out = append(out, *cur)
		}
		cur = nil
	}
	for _, r := range rows {
		if s := p.sim(r.UserID); !s.enabled {
			continue
		}
		hours := (r.Seedtime - r.Accounted) / 3600
		if hours <= 0 {
			continue
		}
		if cur == nil || cur.UserID != r.UserID {
			flush()
			cur = &store.BonusAccrual{UserID: r.UserID, Member: r.Member}
		}
		it := store.BonusItem{TorrentID: r.TorrentID, From: r.Accounted, To: r.Accounted + hours*3600, Hours: hours,
			Size: r.Size, Seeders: r.Seeders, Points: p.cfg.Bonus.Points(hours, r.Size, r.Seeders)}
		cur.Items = append(cur.Items, it)
		cur.Total += it.Points
	}
	flush()
	return out
}
