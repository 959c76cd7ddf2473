package policy

import (
	"testing"

	"github.com/ratioguard/ratioguard/tracker/core"
)

// Two members that traded passkeys in one transaction are reloaded one
// notification at a time: the second reload must not drop the passkey the
// first one just took.
func TestCacheKeepsTradedPasskeys(t *testing.T) {
	c := NewCache()
	const k1, k2 = "11111111111111111111111111111111", "22222222222222222222222222222222"
	a, b := &core.User{ID: 1, Enabled: true}, &core.User{ID: 2, Enabled: true}
	c.PutUser(k1, a)
	c.PutUser(k2, b)
	c.PutUser(k2, &core.User{ID: 1, Enabled: true}) // a now holds k2
	c.PutUser(k1, &core.User{ID: 2, Enabled: true}) // b now holds k1
	if u := c.UserByPasskey(k2); u == nil || u.ID != 1 {
		t.Fatalf("k2 → %+v, want member 1", u)
	}
	if u := c.UserByPasskey(k1); u == nil || u.ID != 2 {
		t.Fatalf("k1 → %+v, want member 2", u)
	}
	c.DeleteUser(1)
	if u := c.UserByPasskey(k2); u != nil {
		t.Fatalf("k2 → %+v after member 1 was deleted", u)
	}
	if u := c.UserByPasskey(k1); u == nil || u.ID != 2 {
		t.Fatalf("k1 → %+v after member 1 was deleted, want member 2", u)
	}
}
