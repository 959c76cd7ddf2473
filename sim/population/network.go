package population

import (
	"encoding/binary"
	"hash/fnv"
	"math/rand/v2"
	"net/netip"
	"time"
)

// Providers: first two octets of residential ISPs' IPv4 /16s. Any addresses
// are fine as data: the simulator never sends a packet to them.
var residentialV4 = [][2]byte{
	{81, 2}, {86, 140}, {92, 184}, {109, 190}, {176, 10}, {2, 204}, {31, 16}, {46, 5}, {78, 46}, {79, 112},
	{84, 56}, {85, 214}, {88, 65}, {90, 12}, {93, 104}, {94, 23}, {95, 90}, {98, 207}, {24, 16}, {73, 22},
	{67, 160}, {68, 36}, {71, 190}, {75, 64}, {76, 101}, {82, 64}, {83, 137}, {87, 122}, {89, 64}, {91, 121},
}

// Hosting ranges for seedboxes and cloud downloaders.
var datacenterV4 = [][2]byte{
	{88, 198}, {5, 9}, {51, 15}, {163, 172}, {195, 154}, {62, 210}, {185, 21}, {176, 31},
}

var cloudV4 = [][2]byte{{47, 74}, {104, 248}, {35, 190}, {139, 59}}

// Foreign networks: hotels and far-away ISPs.
var foreignV4 = [][2]byte{{203, 113}, {115, 78}, {190, 14}, {41, 203}, {122, 160}, {180, 92}}

type netGen struct {
	r *rand.Rand
}

func (g *netGen) v4(p [2]byte) netip.Addr {
	return netip.AddrFrom4([4]byte{p[0], p[1], byte(g.r.IntN(256)), byte(1 + g.r.IntN(254))})
}

func (g *netGen) v6(isp int, dc bool) [8]byte {
	var p [8]byte
	p[0], p[1] = 0x2a, 0x02
	if dc {
		p[1] = 0x01
	}
	binary.BigEndian.PutUint16(p[2:], uint16(0x1000+isp*7))
	binary.BigEndian.PutUint32(p[4:], g.r.Uint32())
	return p
}

func (g *netGen) residential(dualStack bool) *Network {
	isp := g.r.IntN(len(residentialV4))
	n := &Network{Kind: Residential, ISP: isp, V4: g.v4(residentialV4[isp])}
	if dualStack {
		n.V6, n.HasV6 = g.v6(isp, false), true
	}
	return n
}

func (g *netGen) from(kind NetKind, pool [][2]byte, dualStack bool) *Network {
	isp := g.r.IntN(len(pool))
	n := &Network{Kind: kind, ISP: 100*int(kind) + isp, V4: g.v4(pool[isp])}
	if dualStack {
		n.V6, n.HasV6 = g.v6(n.ISP, kind == Datacenter), true
	}
	return n
}

// V4At is the network's IPv4 address after epoch dynamic renumberings by its
// provider (same /16); epoch 0 is the original address.
func (n *Network) V4At(epoch int) netip.Addr {
	if epoch == 0 || n.Kind != Residential {
		return n.V4
	}
	b := n.V4.As4()
	h := fnv.New32a()
	h.Write(b[:])
	var e [4]byte
	binary.BigEndian.PutUint32(e[:], uint32(epoch))
	h.Write(e[:])
	v := h.Sum32()
	b[2], b[3] = byte(v>>8), byte(1+v%254)
	return netip.AddrFrom4(b)
}

// V6At is the agent's IPv6 address at t: a stable interface id, or with
// privacy extensions a new one every day, always inside the same /64.
func (a *Agent) V6At(n *Network, t time.Time) netip.Addr {
	var b [16]byte
	copy(b[:8], n.V6[:])
	h := fnv.New64a()
	var buf [12]byte
	binary.BigEndian.PutUint32(buf[:4], a.ID)
	if a.PrivacyV6 {
		binary.BigEndian.PutUint64(buf[4:], uint64(t.Unix()/86400))
	}
	h.Write(buf[:])
	binary.BigEndian.PutUint64(b[8:], h.Sum64())
	return netip.AddrFrom16(b)
}
