package policy

import (
	"testing"

	"github.com/ratioguard/ratioguard/tracker/core"
)

// NexusPHP's authkeys: TORRENT|USER|HASH with HASH = Hashids(secret).encode(date)
// (hashes of the vectors in tracker/internal/hashids).
func TestPasskeyByAuthkey(t *testing.T) {
	c := NewCache()
	const pk = "0123456789abcdef0123456789abcdef"
	c.PutUser(pk, &core.User{ID: 1, SiteID: 7, Enabled: true})
	c.PutUser("ffffffffffffffffffffffffffffffff", &core.User{ID: 2, Enabled: true})
	// Member 1: "abc" for every torrent, "x" for site torrent 55.
	c.SetReportSecrets(map[uint64]map[uint64]string{1: {0: "abc", 55: "x"}, 2: {0: "abc"}})
	for authkey, want := range map[string]string{
		"56|7|n7PM5G":  pk, // abc's 20261203
		"0|7|n7PeZG":   pk, // abc's 20210603
		"55|7|xWGqaP":  pk, // x's, for torrent 55
		"55|7|n7PM5G":  "", // torrent 55 has its own secret
		"56|7|xWGqaP":  "", // x is only for 55
		"56|8|n7PM5G":  "", // no member with site id 8
		"56|7|n7PM5H":  "", // not a hash of abc
		"56|7|":        "",
		"56|7":         "",
		"x|7|n7PM5G":   "",
		"56|7|n7PM5G|": "",
		"":             "",
	} {
		if got, ok := c.PasskeyByAuthkey(authkey); got != want || ok != (want != "") {
			t.Errorf("PasskeyByAuthkey(%q) = %q, %v; want %q", authkey, got, ok, want)
		}
	}
	// The member's site id changes: the old one no longer names it.
	c.PutUser(pk, &core.User{ID: 1, SiteID: 9, Enabled: true})
	if _, ok := c.PasskeyByAuthkey("56|7|n7PM5G"); ok {
		t.Error("old site id still accepted")
	}
	if got, _ := c.PasskeyByAuthkey("56|9|n7PM5G"); got != pk {
		t.Errorf("new site id: %q", got)
	}
	// A resync without the member, then secrets removed.
	c.replaceAll(map[string]*core.User{pk: {ID: 1, SiteID: 9}}, nil)
	if got, _ := c.PasskeyByAuthkey("56|9|n7PM5G"); got != pk {
		t.Errorf("after a resync: %q", got)
	}
	c.SetReportSecrets(nil)
	if _, ok := c.PasskeyByAuthkey("56|9|n7PM5G"); ok {
		t.Error("accepted without secrets")
	}
	c.DeleteUser(1)
	c.SetReportSecrets(map[uint64]map[uint64]string{1: {0: "abc"}})
	if _, ok := c.PasskeyByAuthkey("56|9|n7PM5G"); ok {
		t.Error("a deleted member's authkey accepted")
	}
}

func BenchmarkPasskeyByAuthkey(b *testing.B) {
	c := NewCache()
	c.PutUser("0123456789abcdef0123456789abcdef", &core.User{ID: 1, SiteID: 7, Enabled: true})
	c.SetReportSecrets(map[uint64]map[uint64]string{1: {0: "Str0ngRand0mStr1"}})
	for b.Loop() {
		if _, ok := c.PasskeyByAuthkey("56|7|qAnL5d"); !ok {
			b.Fatal("refused")
		}
	}
}
