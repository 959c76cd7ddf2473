package site

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Opening is a member's lifetime record on the site before ratioguard: the
// import enters it in the ledger as adjustments with reason "opening
// balance", so the ratio rule judges the whole record.
type Opening struct {
	Uploaded   int64   // bytes, JSON "uploaded"
	Downloaded int64   // bytes, JSON "downloaded"
	Seedtime   int64   // seconds, JSON "seedtime_s" (absent: 0)
	Bonus      float64 // the site's bonus points, JSON "bonus" (absent: 0)
}

// Snatch is one torrent the member completed on the site, with the seeding
// done there: hit-and-run judges it by that seeding plus what ratioguard
// observes after.
type Snatch struct {
	InfoHash   [20]byte   // JSON "info_hash": a torrent of the file or of ratioguard
	Completed  time.Time  // JSON "completed_ts", Unix seconds
	Seedtime   int64      // seconds seeded on the site, JSON "seedtime_s"
	LastSeeded *time.Time // JSON "last_seeded_ts" (absent: never seeded, or unknown)
	Uploaded   int64      // bytes on this torrent, JSON "uploaded" (absent: 0)
	Downloaded int64      // bytes on this torrent, JSON "downloaded" (absent: 0)
}

type openingJSON struct {
	Uploaded   *int64   `json:"uploaded"`
	Downloaded *int64   `json:"downloaded"`
	SeedtimeS  *int64   `json:"seedtime_s"`
	Bonus      *float64 `json:"bonus"`
}

type snatchJSON struct {
	InfoHash     *string `json:"info_hash"`
	CompletedTS  *int64  `json:"completed_ts"`
	SeedtimeS    *int64  `json:"seedtime_s"`
	LastSeededTS *int64  `json:"last_seeded_ts"`
	Uploaded     *int64  `json:"uploaded"`
	Downloaded   *int64  `json:"downloaded"`
}

// maxBonus fits ledger_user_totals.bonus_points (NUMERIC(20, 4)).
const maxBonus = 1e15

// badFunc records a problem of the record being parsed.
type badFunc func(field, format string, a ...any)

func parseOpening(raw json.RawMessage, bad badFunc) *Opening {
	o := &Opening{}
	var j openingJSON
	if msg := decodeRecord(raw, &j); msg != "" {
		bad("opening", "%s", msg)
		return o
	}
	nonNegative(bad, "opening.uploaded", j.Uploaded, &o.Uploaded, true)
	nonNegative(bad, "opening.downloaded", j.Downloaded, &o.Downloaded, true)
	nonNegative(bad, "opening.seedtime_s", j.SeedtimeS, &o.Seedtime, false)
	if j.Bonus != nil {
		if b := *j.Bonus; b < 0 || b >= maxBonus || math.IsNaN(b) {
			bad("opening.bonus", "%g is not between 0 and %g", b, maxBonus)
		} else {
			o.Bonus = math.Round(b*1e4) / 1e4 // the ledger keeps 4 decimals
		}
	}
	return o
}

func parseSnatches(raws []json.RawMessage, bad badFunc) *[]Snatch {
	out := make([]Snatch, 0, len(raws))
	seen := make(map[[20]byte]int, len(raws))
	for k, raw := range raws {
		field := fmt.Sprintf("snatches[%d]", k)
		var j snatchJSON
		if msg := decodeRecord(raw, &j); msg != "" {
			bad(field, "%s", msg)
			continue
		}
		var s Snatch
		ok := true
		fail := func(sub, format string, a ...any) {
			bad(field+"."+sub, format, a...)
			ok = false
		}
		if j.InfoHash == nil {
			fail("info_hash", "missing")
		} else if b, err := hex.DecodeString(*j.InfoHash); err != nil || len(b) != 20 {
			fail("info_hash", "%q is not 40 hexadecimal digits", *j.InfoHash)
		} else if s.InfoHash = [20]byte(b); seen[s.InfoHash] > 0 {
			fail("info_hash", "also the info_hash of snatches[%d]", seen[s.InfoHash]-1)
		} else {
			seen[s.InfoHash] = k + 1
		}
		if j.CompletedTS == nil {
			fail("completed_ts", "missing")
		} else if t, err := unixTime(*j.CompletedTS); err != nil {
			fail("completed_ts", "%v", err)
		} else {
			s.Completed = t
		}
		if j.LastSeededTS != nil {
			if t, err := unixTime(*j.LastSeededTS); err != nil {
				fail("last_seeded_ts", "%v", err)
			} else {
				s.LastSeeded = &t
			}
		}
		for _, n := range []struct {
			sub      string
			v, dst   *int64
			required bool
		}{{"seedtime_s", j.SeedtimeS, &s.Seedtime, true}, {"uploaded", j.Uploaded, &s.Uploaded, false},
			{"downloaded", j.Downloaded, &s.Downloaded, false}} {
			ok = nonNegative(bad, field+"."+n.sub, n.v, n.dst, n.required) && ok
		}
		if ok {
			out = append(out, s)
		}
	}
	return &out
}

// nonNegative stores *v in *dst when it is a count (>= 0) and reports a
// missing required or negative one; false when it did.
func nonNegative(bad badFunc, field string, v, dst *int64, required bool) bool {
	switch {
	case v == nil && required:
		bad(field, "missing")
	case v == nil:
		return true
	case *v < 0:
		bad(field, "%d is negative", *v)
	default:
		*dst = *v
		return true
	}
	return false
}
