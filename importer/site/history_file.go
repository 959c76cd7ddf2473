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
	return parseList(raws, "snatches", "info_hash", bad, func(j *snatchJSON, fail badFunc) (Snatch, [20]byte) {
		var s Snatch
		s.InfoHash = hexID(fail, "info_hash", j.InfoHash)
		s.Completed = unixField(fail, "completed_ts", j.CompletedTS)
		if j.LastSeededTS != nil {
			t := unixField(fail, "last_seeded_ts", j.LastSeededTS)
			s.LastSeeded = &t
		}
		nonNegative(fail, "seedtime_s", j.SeedtimeS, &s.Seedtime, true)
		nonNegative(fail, "uploaded", j.Uploaded, &s.Uploaded, false)
		nonNegative(fail, "downloaded", j.Downloaded, &s.Downloaded, false)
		return s, s.InfoHash
	})
}

// parseList parses a member's list field (name): each element decoded
// strictly into J and made a T by mk, which reports through fail (the
// element's fields are name[k].field); key identifies an element, at most
// once per list (dup names it in the message). Elements with a problem are
// left out (the file is refused anyway).
func parseList[J, T any, K comparable](raws []json.RawMessage, name, dup string, bad badFunc, mk func(*J, badFunc) (T, K)) *[]T {
	out := make([]T, 0, len(raws))
	seen := make(map[K]int, len(raws))
	for k, raw := range raws {
		field := fmt.Sprintf("%s[%d]", name, k)
		var j J
		if msg := decodeRecord(raw, &j); msg != "" {
			bad(field, "%s", msg)
			continue
		}
		ok := true
		v, key := mk(&j, func(sub, format string, a ...any) {
			bad(field+"."+sub, format, a...)
			ok = false
		})
		if !ok {
			continue
		}
		if first, twice := seen[key]; twice {
			bad(field+"."+dup, "also the %s of %s[%d]", dup, name, first)
			continue
		}
		seen[key] = k
		out = append(out, v)
	}
	return &out
}

// hexID reads 20 bytes written as 40 hexadecimal digits (any case).
func hexID(fail badFunc, field string, v *string) [20]byte {
	if v == nil {
		fail(field, "missing")
		return [20]byte{}
	}
	b, err := hex.DecodeString(*v)
	if err != nil || len(b) != 20 {
		fail(field, "%q is not 40 hexadecimal digits", *v)
		return [20]byte{}
	}
	return [20]byte(b)
}

// unixField reads a required time in Unix seconds.
func unixField(fail badFunc, field string, v *int64) time.Time {
	if v == nil {
		fail(field, "missing")
		return time.Time{}
	}
	t, err := unixTime(*v)
	if err != nil {
		fail(field, "%v", err)
	}
	return t
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
