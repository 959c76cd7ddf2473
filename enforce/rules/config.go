// Package rules owns the enforcement policy as pure functions over figures:
// the Gazelle required-ratio table, the ratio-watch state machine, the
// hit-and-run thresholds and the seeding-bonus formula, plus the YAML
// configuration that tunes every one of them. Nothing here touches a
// database or a clock: callers pass the figures and "now".
package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// GiB is 2^30 bytes; the ratio table and the watch download limit are in GiB
// (Gazelle's "GB" boundaries are 1024³ bytes in its code).
const GiB = 1 << 30

// Config is every tunable of the enforcement jobs. The zero value is not
// valid; start from Default() and override.
type Config struct {
	Ratio RatioConfig `yaml:"ratio"`
	HnR   HnRConfig   `yaml:"hnr"`
	Bonus BonusConfig `yaml:"bonus"`
}

// RatioConfig tunes the required ratio and the ratio watch.
type RatioConfig struct {
	// Table maps amount downloaded to the required ratio, in increasing
	// UpToGiB order; the last tier has UpToGiB 0 meaning "and above".
	Table []RatioTier `yaml:"table"`
	// WatchDays is how long a member below the requirement has to fix it.
	WatchDays int `yaml:"watch_days"`
	// WatchDownloadLimitGiB: downloading more than this during the watch
	// disables leeching at once.
	WatchDownloadLimitGiB float64 `yaml:"watch_download_limit_gib"`
	// SeededWindowDays and SeededMinHours define "a snatch seeded over the
	// last week": at least SeededMinHours of seedtime in the window.
	SeededWindowDays int     `yaml:"seeded_window_days"`
	SeededMinHours   float64 `yaml:"seeded_min_hours"`
	// ExemptClasses are never put on ratio watch (users.class, matched
	// without regard to case; default DefaultExemptClasses).
	ExemptClasses []string `yaml:"exempt_classes"`
}

// RatioTier is one row of the required-ratio table: downloaded below
// UpToGiB (0 = no upper bound) requires between Min (everything seeded) and
// Max (nothing seeded).
type RatioTier struct {
	UpToGiB float64 `yaml:"up_to_gib"`
	Max     float64 `yaml:"max"`
	Min     float64 `yaml:"min"`
}

// HnRConfig tunes hit-and-run warnings.
type HnRConfig struct {
	// Enabled: false issues no new warning (a site whose own rules have no
	// hit-and-run, such as Gazelle/OPS); warnings already active still lift
	// as they would.
	Enabled bool `yaml:"enabled"`
	// MinDownloadedPercent: a snatch is a download of more than this share
	// of the torrent's size.
	MinDownloadedPercent float64 `yaml:"min_downloaded_percent"`
	// SeedHours must be seeded within GraceDays of the snatch.
	SeedHours float64 `yaml:"seed_hours"`
	GraceDays int     `yaml:"grace_days"`
	// WarningDays: a warning stays active this long after the deadline it
	// missed (or until the member seeds the torrent for SeedHours).
	WarningDays int `yaml:"warning_days"`
	// WarningsToDisable active warnings disable leeching.
	WarningsToDisable int `yaml:"warnings_to_disable"`
	// ExemptClasses never get hit-and-run warnings (as Ratio.ExemptClasses).
	ExemptClasses []string `yaml:"exempt_classes"`
}

// BonusConfig tunes seeding-bonus points (see Points).
type BonusConfig struct {
	// PointsPerHour for seeding a 1 GiB torrent that has many seeders.
	PointsPerHour float64 `yaml:"points_per_hour"`
	// SizeExponent: weight = size_GiB^SizeExponent, clamped to
	// [MinSizeWeight, MaxSizeWeight].
	SizeExponent  float64 `yaml:"size_exponent"`
	MinSizeWeight float64 `yaml:"min_size_weight"`
	MaxSizeWeight float64 `yaml:"max_size_weight"`
	// ScarcityBoost: weight = 1 + ScarcityBoost/seeders (a lone seeder earns
	// 1+ScarcityBoost times the base).
	ScarcityBoost float64 `yaml:"scarcity_boost"`
	// SeederFreshMinutes: a peer counts as a current seeder when its last
	// announce with left=0 is at most this old.
	SeederFreshMinutes int `yaml:"seeder_fresh_minutes"`
}

// Default is the policy of the issue: Gazelle's table, 14-day watch, 10 GiB
// watch download limit, 72 h within 14 days for hit-and-run, 3 warnings.
func Default() Config {
	return Config{
		Ratio: RatioConfig{
			Table: []RatioTier{
				{UpToGiB: 5, Max: 0, Min: 0},
				{UpToGiB: 10, Max: 0.15, Min: 0},
				{UpToGiB: 20, Max: 0.20, Min: 0},
				{UpToGiB: 30, Max: 0.30, Min: 0.05},
				{UpToGiB: 40, Max: 0.40, Min: 0.10},
				{UpToGiB: 50, Max: 0.50, Min: 0.20},
				{UpToGiB: 60, Max: 0.60, Min: 0.30},
				{UpToGiB: 80, Max: 0.60, Min: 0.40},
				{UpToGiB: 100, Max: 0.60, Min: 0.50},
				{UpToGiB: 0, Max: 0.60, Min: 0.60},
			},
			WatchDays:             14,
			WatchDownloadLimitGiB: 10,
			SeededWindowDays:      7,
			SeededMinHours:        72,
			ExemptClasses:         DefaultExemptClasses(),
		},
		HnR: HnRConfig{
			Enabled:              true,
			MinDownloadedPercent: 10,
			SeedHours:            72,
			GraceDays:            14,
			WarningDays:          28,
			WarningsToDisable:    3,
			ExemptClasses:        DefaultExemptClasses(),
		},
		Bonus: BonusConfig{
			PointsPerHour:      1,
			SizeExponent:       0.5,
			MinSizeWeight:      0.1,
			MaxSizeWeight:      10,
			ScarcityBoost:      2,
			SeederFreshMinutes: 60,
		},
	}
}

// Load reads a YAML file over Default(): keys absent from the file keep
// their default; unknown keys are an error.
func Load(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("open enforcement config: %w", err)
	}
	defer f.Close()
	cfg, err := Parse(f)
	if err != nil {
		return Config{}, fmt.Errorf("enforcement config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes YAML over Default() and validates the result.
func Parse(r io.Reader) (Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Config{}, fmt.Errorf("read: %w", err)
	}
	cfg := Default()
	if len(bytes.TrimSpace(data)) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil {
			return Config{}, fmt.Errorf("parse yaml: %w", err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate says what is wrong with a configuration, all at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	t := c.Ratio.Table
	if len(t) == 0 {
		bad("ratio.table is empty")
	}
	for i, tier := range t {
		last := i == len(t)-1
		switch {
		case last && tier.UpToGiB != 0:
			bad("ratio.table: the last tier must have up_to_gib 0 (no upper bound), got %g", tier.UpToGiB)
		case !last && tier.UpToGiB <= 0:
			bad("ratio.table[%d]: up_to_gib must be > 0 (only the last tier is open-ended)", i)
		case !last && i > 0 && tier.UpToGiB <= t[i-1].UpToGiB:
			bad("ratio.table[%d]: up_to_gib %g must be greater than the previous tier's %g", i, tier.UpToGiB, t[i-1].UpToGiB)
		}
		if tier.Min < 0 || tier.Max < tier.Min {
			bad("ratio.table[%d]: need 0 <= min <= max, got min %g max %g", i, tier.Min, tier.Max)
		}
	}
	if c.Ratio.WatchDays <= 0 {
		bad("ratio.watch_days must be > 0")
	}
	if c.Ratio.WatchDownloadLimitGiB <= 0 {
		bad("ratio.watch_download_limit_gib must be > 0")
	}
	if c.Ratio.SeededWindowDays <= 0 || c.Ratio.SeededMinHours < 0 ||
		c.Ratio.SeededMinHours > float64(24*c.Ratio.SeededWindowDays) {
		bad("ratio: need seeded_window_days > 0 and 0 <= seeded_min_hours <= 24*seeded_window_days")
	}
	h := c.HnR
	if h.MinDownloadedPercent < 0 || h.MinDownloadedPercent >= 100 {
		bad("hnr.min_downloaded_percent must be in [0, 100)")
	}
	if h.SeedHours <= 0 || h.GraceDays <= 0 || h.WarningDays <= 0 || h.WarningsToDisable <= 0 {
		bad("hnr: seed_hours, grace_days, warning_days and warnings_to_disable must be > 0")
	}
	b := c.Bonus
	if b.PointsPerHour < 0 || b.SizeExponent < 0 || b.MinSizeWeight < 0 || b.MaxSizeWeight < b.MinSizeWeight ||
		b.ScarcityBoost < 0 || b.SeederFreshMinutes <= 0 {
		bad("bonus: need points_per_hour, size_exponent, scarcity_boost >= 0, 0 <= min_size_weight <= max_size_weight, seeder_fresh_minutes > 0")
	}
	return errors.Join(errs...)
}

// Durations derived from the configuration.
func (c RatioConfig) Watch() time.Duration        { return days(c.WatchDays) }
func (c RatioConfig) SeededWindow() time.Duration { return days(c.SeededWindowDays) }
func (c RatioConfig) SeededMin() time.Duration    { return hours(c.SeededMinHours) }
func (c HnRConfig) Grace() time.Duration          { return days(c.GraceDays) }
func (c HnRConfig) WarningLife() time.Duration    { return days(c.WarningDays) }
func (c HnRConfig) SeedTime() time.Duration       { return hours(c.SeedHours) }
func (c BonusConfig) SeederFresh() time.Duration {
	return time.Duration(c.SeederFreshMinutes) * time.Minute
}

func days(n int) time.Duration      { return time.Duration(n) * 24 * time.Hour }
func hours(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

// DefaultExemptClasses are the classes exempt from the ratio rule and
// hit-and-run warnings by default: the staff classes the detectors never
// report (site operators and moderators of Gazelle, UNIT3D and NexusPHP
// sites, plus the built-in "staff") and the classes those sites themselves
// make immune to ratio and hit-and-run rules (UNIT3D's is_immune groups
// Uploader, Trustee, Internal; NexusPHP's VIP, Retiree, Uploader; the
// built-in "vip" and "uploader"). Uploaders and VIPs are still watched by
// the detectors: an exemption from obligations is not one from cheating.
// Matching ignores case.
func DefaultExemptClasses() []string {
	return []string{
		// staff (detectors' default staff_classes)
		"staff", "owner", "sysop", "staff leader", "administrator", "admin",
		"moderator", "torrent moderator", "forum moderator", "developer", "lead developer", "bot",
		// immune to ratio and hit-and-run rules, not to detection
		"uploader", "vip", "trustee", "internal", "retiree",
	}
}

// Exempt reports whether class is in the list, ignoring case.
func Exempt(class string, list []string) bool {
	for _, c := range list {
		if strings.EqualFold(strings.TrimSpace(c), class) {
			return true
		}
	}
	return false
}

// WriteYAML prints cfg in the format Load reads.
func WriteYAML(w io.Writer, cfg Config) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return fmt.Errorf("encode enforcement config: %w", err)
	}
	return enc.Close()
}
