package detectors

import (
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/oschwald/maxminddb-golang/v2"
)

// GeoDB looks networks up in one or more MaxMind-format databases (an ASN
// database, a city database, or one with both), merging what each knows.
type GeoDB struct {
	readers []*maxminddb.Reader
	mu      sync.Mutex
	cache   map[Network]GeoInfo
}

// GeoInfo is what the databases say about a network.
type GeoInfo struct {
	ASN         uint    `json:"asn,omitempty"`
	ASOrg       string  `json:"as_org,omitempty"`
	Country     string  `json:"country,omitempty"`
	City        string  `json:"city,omitempty"`
	Lat         float64 `json:"lat,omitempty"`
	Lon         float64 `json:"lon,omitempty"`
	HasLocation bool    `json:"-"`
}

type geoRecord struct {
	ASN     uint   `maxminddb:"autonomous_system_number"`
	ASOrg   string `maxminddb:"autonomous_system_organization"`
	Country struct {
		ISO string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Location struct {
		Lat *float64 `maxminddb:"latitude"`
		Lon *float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
}

// OpenGeoDB opens a comma-separated list of .mmdb files ("" = none, nil result).
func OpenGeoDB(paths string) (*GeoDB, error) {
	if strings.TrimSpace(paths) == "" {
		return nil, nil
	}
	g := &GeoDB{cache: map[Network]GeoInfo{}}
	for _, p := range strings.Split(paths, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		r, err := maxminddb.Open(p)
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("open geo database %s: %w", p, err)
		}
		g.readers = append(g.readers, r)
	}
	return g, nil
}

// Close releases the databases.
func (g *GeoDB) Close() {
	if g == nil {
		return
	}
	for _, r := range g.readers {
		_ = r.Close()
	}
	g.readers = nil
}

// Lookup returns what the databases know about the network's first address.
func (g *GeoDB) Lookup(n Network) (GeoInfo, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if gi, ok := g.cache[n]; ok {
		return gi, nil
	}
	var gi GeoInfo
	for _, r := range g.readers {
		var rec geoRecord
		if err := r.Lookup(n.Addr()).Decode(&rec); err != nil {
			return GeoInfo{}, fmt.Errorf("geo lookup %s: %w", n, err)
		}
		if rec.ASN != 0 {
			gi.ASN, gi.ASOrg = rec.ASN, rec.ASOrg
		}
		if rec.Country.ISO != "" {
			gi.Country = rec.Country.ISO
		}
		if c := rec.City.Names["en"]; c != "" {
			gi.City = c
		}
		if rec.Location.Lat != nil && rec.Location.Lon != nil {
			gi.Lat, gi.Lon, gi.HasLocation = *rec.Location.Lat, *rec.Location.Lon, true
		}
	}
	g.cache[n] = gi
	return gi, nil
}

// distanceKM is the great-circle distance between two locations.
func distanceKM(a, b GeoInfo) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}
