package site

import (
	"strings"
	"testing"
)

func TestUsedToken(t *testing.T) {
	for name, want := range map[string]bool{
		"token": true, "token+site:freeleech": true, "2x+token": true, "site:token": false,
		"none": false, "free": false, "tokens": false, "": false, "free+2x": false,
	} {
		if got := usedToken(name); got != want {
			t.Errorf("usedToken(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestIPText(t *testing.T) {
	v4mapped := append([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 192, 0, 2, 7)
	v6 := []byte{0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
	for _, c := range []struct {
		ip   []byte
		want string
	}{{[]byte{10, 0, 0, 1}, "10.0.0.1"}, {v4mapped, "192.0.2.7"}, {v6, ""}, {nil, ""}, {[]byte{1, 2, 3}, ""}} {
		if got := ipText(c.ip); got != c.want {
			t.Errorf("ipText(%x) = %q, want %q", c.ip, got, c.want)
		}
	}
}

func TestTruncateKeepsRunes(t *testing.T) {
	if got := truncate("qBittorrent/4.6.5", 51); got != "qBittorrent/4.6.5" {
		t.Errorf("short agent changed: %q", got)
	}
	long := strings.Repeat("é", 60) // 120 bytes, 60 runes
	if got := truncate(long, 51); got != strings.Repeat("é", 51) {
		t.Errorf("truncate to 51 runes = %d runes", len([]rune(got)))
	}
}

func TestExpand(t *testing.T) {
	if got := expand("INSERT INTO x (a, b) VALUES {{values}} ON DUPLICATE", 3, 2); got != "INSERT INTO x (a, b) VALUES (?,?),(?,?),(?,?) ON DUPLICATE" {
		t.Errorf("values: %q", got)
	}
	got := expand("UPDATE t JOIN ({{rows:id,up}}) d ON d.id = t.id", 2, 2)
	if want := "UPDATE t JOIN (SELECT ? AS id, ? AS up UNION ALL SELECT ?, ?) d ON d.id = t.id"; got != want {
		t.Errorf("rows: %q\nwant  %q", got, want)
	}
	got = expand("SELECT 1 FROM ({{rows:t,p=binary}}) d", 2, 2)
	if want := "SELECT 1 FROM (SELECT ? AS t, CAST(? AS BINARY) AS p UNION ALL SELECT ?, CAST(? AS BINARY)) d"; got != want {
		t.Errorf("binary rows: %q\nwant  %q", got, want)
	}
}

func TestExpireURL(t *testing.T) {
	got := ExpireURL("https://site.example/", "s3cret", [][2]int64{{1001, 5003}, {7, 9}})
	want := "https://site.example/tools.php?action=ocelot&key=s3cret&type=expiretoken&tokens=1001:5003,7:9"
	if got != want {
		t.Errorf("ExpireURL = %q, want %q", got, want)
	}
}

// A peer's change from its row before the batch to its state after moves
// its torrent's counts by exactly that change.
func TestSwarmDeltas(t *testing.T) {
	p := newPlan()
	seeding := peerKey{torrent: 1, user: 1, peer: [20]byte{'a'}}
	joined := peerKey{torrent: 1, user: 2, peer: [20]byte{'b'}}
	stopped := peerKey{torrent: 1, user: 3, peer: [20]byte{'c'}}
	p.torrent(1)
	p.peers[seeding] = &peerState{active: true, seeder: true}   // was leeching: completed
	p.peers[joined] = &peerState{active: true, seeder: true}    // a new seeder
	p.peers[stopped] = &peerState{active: false, seeder: false} // a leecher that stopped
	p.swarm(map[peerKey]prior{seeding: {active: true}, stopped: {active: true}})
	if tr := p.torrents[1]; tr.seeders != 2 || tr.leechers != -2 {
		t.Errorf("seeders %+d leechers %+d; want +2 -2", tr.seeders, tr.leechers)
	}
}

// expand fills the first marker of a statement: one in a comment would be
// filled instead of the statement's own.
func TestNoMarkerInSQLComments(t *testing.T) {
	files, err := sqlFS.ReadDir("sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := sqlFS.ReadFile("sql/" + f.Name())
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if c := strings.Index(line, "--"); c >= 0 && strings.Contains(line[c:], "{{") {
				t.Errorf("sql/%s:%d: a marker in a comment: %s", f.Name(), i+1, line)
			}
		}
	}
}
