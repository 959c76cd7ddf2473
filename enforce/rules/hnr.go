package rules

import "time"

// Snatch is one member × torrent download as the hit-and-run rule sees it.
type Snatch struct {
	TorrentSize int64
	Downloaded  float64       // raw bytes downloaded (promotions do not matter)
	Seedtime    time.Duration // total seeding time on this torrent
	Started     time.Time     // completion time, or first announce if never completed
	Warned      bool          // a warning already exists for this snatch
	// FromSite: the site's snatch history says it was completed there (the
	// site may not say how much was downloaded).
	FromSite bool
}

// IsSnatch: more than MinDownloadedPercent of the torrent was downloaded.
func (c HnRConfig) IsSnatch(downloaded float64, size int64) bool {
	return size > 0 && downloaded > float64(size)*c.MinDownloadedPercent/100
}

// Deadline is when the snatch must have been seeded SeedHours.
func (c HnRConfig) Deadline(started time.Time) time.Time { return started.Add(c.Grace()) }

// Expiry is when a warning for a snatch started at `started` stops counting.
func (c HnRConfig) Expiry(started time.Time) time.Time {
	return c.Deadline(started).Add(c.WarningLife())
}

// Seeded reports whether the seeding requirement is met.
func (c HnRConfig) Seeded(seedtime time.Duration) bool { return seedtime >= c.SeedTime() }

// ShouldWarn: a snatch past its deadline without enough seeding earns one
// warning, unless the warning would already have expired (old history when
// enforcement is switched on does not punish anyone).
func (c HnRConfig) ShouldWarn(s Snatch, now time.Time) bool {
	return !s.Warned && (s.FromSite || c.IsSnatch(s.Downloaded, s.TorrentSize)) && !c.Seeded(s.Seedtime) &&
		!now.Before(c.Deadline(s.Started)) && now.Before(c.Expiry(s.Started))
}

// LiftReason says why an active warning stops counting, or "" if it stays.
func (c HnRConfig) LiftReason(expiresAt time.Time, seedtime time.Duration, now time.Time) string {
	switch {
	case c.Seeded(seedtime):
		return "seeded"
	case !now.Before(expiresAt):
		return "expired"
	}
	return ""
}
