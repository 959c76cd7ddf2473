package rules

import (
	"math"
	"time"
)

// Required is Gazelle's required ratio for a member who downloaded
// `downloaded` bytes and seeded `seededShare` (0..1) of their snatches over
// the last week: max(min, max × (1 − seededShare)) of the tier.
func (c RatioConfig) Required(downloaded float64, seededShare float64) float64 {
	tier := c.Tier(downloaded)
	seededShare = math.Max(0, math.Min(1, seededShare))
	return math.Max(tier.Min, tier.Max*(1-seededShare))
}

// Tier returns the table row that applies to `downloaded` bytes.
func (c RatioConfig) Tier(downloaded float64) RatioTier {
	gib := downloaded / GiB
	for _, t := range c.Table {
		if t.UpToGiB == 0 || gib < t.UpToGiB {
			return t
		}
	}
	return c.Table[len(c.Table)-1]
}

// Ratio is uploaded/downloaded; nothing downloaded is an infinite ratio.
func Ratio(uploaded, downloaded float64) float64 {
	if downloaded <= 0 {
		return math.Inf(1)
	}
	return uploaded / downloaded
}

// SeededShare is seeded/snatches, and 1 when there are no snatches (nothing
// to seed: the minimum of the tier applies, as in Gazelle).
func SeededShare(snatches, seeded int) float64 {
	if snatches <= 0 {
		return 1
	}
	return math.Min(1, float64(seeded)/float64(snatches))
}

// WatchState is where a member stands in the ratio watch.
type WatchState string

// Ratio watch states. WatchNone has no stored row.
const (
	WatchNone     WatchState = ""
	WatchActive   WatchState = "watch"
	WatchDisabled WatchState = "disabled"
)

// WatchAction is what the ratio rule decides for one member.
type WatchAction string

// Ratio watch actions.
const (
	WatchKeep            WatchAction = ""                 // nothing to do
	WatchStart           WatchAction = "start"            // below the requirement: put on watch
	WatchClear           WatchAction = "clear"            // back above while on watch
	WatchRestore         WatchAction = "restore"          // back above after leeching was disabled
	WatchDisableDownload WatchAction = "disable_download" // downloaded too much while on watch
	WatchDisableExpired  WatchAction = "disable_expired"  // watch ran out
	WatchClearExempt     WatchAction = "clear_exempt"     // member became exempt
)

// Watch is the stored ratio-watch row of a member (State WatchNone if none).
type Watch struct {
	State             WatchState
	EndsAt            time.Time
	DownloadedAtStart float64
}

// RatioInput is what the ratio rule needs to know about a member.
type RatioInput struct {
	Exempt     bool
	Uploaded   float64
	Downloaded float64
	Snatches   int
	Seeded     int
	Watch      Watch
	// UnseenPast: the figures cover only part of the member's record (a
	// site member whose opening balance was not imported): never a reason
	// to start a watch.
	UnseenPast bool
}

// RatioDecision is the rule's verdict and the figures behind it.
type RatioDecision struct {
	Action   WatchAction
	Ratio    float64
	Required float64
	Below    bool
}

// Decide runs the ratio-watch state machine for one member at `now`.
func (c RatioConfig) Decide(in RatioInput, now time.Time) RatioDecision {
	d := RatioDecision{
		Ratio:    Ratio(in.Uploaded, in.Downloaded),
		Required: c.Required(in.Downloaded, SeededShare(in.Snatches, in.Seeded)),
	}
	d.Below = d.Required > 0 && d.Ratio < d.Required
	switch {
	case in.Exempt:
		if in.Watch.State != WatchNone {
			d.Action = WatchClearExempt
		}
	case in.Watch.State == WatchNone:
		if d.Below && !in.UnseenPast {
			d.Action = WatchStart
		}
	case !d.Below:
		d.Action = WatchClear
		if in.Watch.State == WatchDisabled {
			d.Action = WatchRestore
		}
	case in.Watch.State == WatchActive:
		if in.Downloaded-in.Watch.DownloadedAtStart > c.WatchDownloadLimitGiB*GiB {
			d.Action = WatchDisableDownload
		} else if !now.Before(in.Watch.EndsAt) {
			d.Action = WatchDisableExpired
		}
	}
	return d
}
