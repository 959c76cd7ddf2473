package rules

import "math"

// SizeWeight grows with the torrent's size (size_GiB^SizeExponent), clamped.
func (c BonusConfig) SizeWeight(size int64) float64 {
	w := math.Pow(float64(size)/GiB, c.SizeExponent)
	return math.Max(c.MinSizeWeight, math.Min(c.MaxSizeWeight, w))
}

// ScarcityWeight rewards keeping thin swarms alive: 1 + ScarcityBoost/seeders
// (a member seeding alone counts as one seeder).
func (c BonusConfig) ScarcityWeight(seeders int) float64 {
	return 1 + c.ScarcityBoost/float64(max(1, seeders))
}

// Points earned for `hours` whole hours of seeding a torrent of `size` bytes
// that currently has `seeders` seeders, rounded to the ledger's 4 decimals.
func (c BonusConfig) Points(hours int64, size int64, seeders int) float64 {
	p := float64(hours) * c.PointsPerHour * c.SizeWeight(size) * c.ScarcityWeight(seeders)
	return math.Round(p*1e4) / 1e4
}
