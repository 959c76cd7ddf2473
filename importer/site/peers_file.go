package site

import (
	"encoding/json"
	"net/netip"
	"time"
)

// Peer is one of the member's active peers on the old tracker, with the
// counters of its last announce there: a tracker starting soon after the
// import takes them as the session's baseline, so the peer's first announce
// to ratioguard credits what it moved since (docs/IMPORT.md). A peer whose
// port the old tracker did not keep (Gazelle's xbt_files_users) has port 0:
// the tracker hands it to other peers only once its own announce gives one.
type Peer struct {
	InfoHash   [20]byte       // JSON "info_hash": a torrent of the file or of ratioguard
	PeerID     [20]byte       // JSON "peer_id": the 20 bytes as 40 hexadecimal digits
	Addr       netip.AddrPort // JSON "ip" and "port" (port 0: unknown, JSON none or 0)
	Uploaded   int64          // bytes the client reported, JSON "uploaded"
	Downloaded int64          // JSON "downloaded"
	Left       int64          // JSON "left"
	Announced  time.Time      // the last announce, JSON "ts" (Unix seconds)
}

type peerJSON struct {
	InfoHash   *string `json:"info_hash"`
	PeerID     *string `json:"peer_id"`
	IP         *string `json:"ip"`
	Port       *int64  `json:"port"`
	Uploaded   *int64  `json:"uploaded"`
	Downloaded *int64  `json:"downloaded"`
	Left       *int64  `json:"left"`
	TS         *int64  `json:"ts"`
}

func parsePeers(raws []json.RawMessage, bad badFunc) *[]Peer {
	return parseList(raws, "peers", "peer_id", bad, func(j *peerJSON, fail badFunc) (Peer, [40]byte) {
		var p Peer
		p.InfoHash = hexID(fail, "info_hash", j.InfoHash)
		p.PeerID = hexID(fail, "peer_id", j.PeerID)
		var ip netip.Addr
		switch a, err := netip.ParseAddr(deString(j.IP)); {
		case j.IP == nil:
			fail("ip", "missing")
		case err != nil || a.Zone() != "":
			fail("ip", "%q is not an IP address", *j.IP)
		default:
			ip = a.Unmap()
		}
		switch {
		case j.Port == nil:
			p.Addr = netip.AddrPortFrom(ip, 0) // unknown
		case *j.Port < 0 || *j.Port > 65535:
			fail("port", "%d is not a port (1-65535, or 0: unknown)", *j.Port)
		default:
			p.Addr = netip.AddrPortFrom(ip, uint16(*j.Port))
		}
		nonNegative(fail, "uploaded", j.Uploaded, &p.Uploaded, true)
		nonNegative(fail, "downloaded", j.Downloaded, &p.Downloaded, true)
		nonNegative(fail, "left", j.Left, &p.Left, true)
		p.Announced = unixField(fail, "ts", j.TS)
		var key [40]byte
		copy(key[:20], p.InfoHash[:])
		copy(key[20:], p.PeerID[:])
		return p, key
	})
}

func deString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
