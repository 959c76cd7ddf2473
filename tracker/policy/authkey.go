package policy

import (
	"strconv"
	"strings"

	"github.com/ratioguard/ratioguard/tracker/internal/hashids"
)

// SetReportSecrets installs NexusPHP's tracker report secrets: per member
// id, per site torrent id (0: every torrent), the secret.
func (c *Cache) SetReportSecrets(m map[uint64]map[uint64]string) {
	hs := make(map[uint64]map[uint64]*hashids.Hashids, len(m))
	for user, byTorrent := range m {
		hs[user] = make(map[uint64]*hashids.Hashids, len(byTorrent))
		for tid, secret := range byTorrent {
			hs[user][tid] = hashids.New(secret)
		}
	}
	c.secrets.Store(&hs)
}

// PasskeyByAuthkey implements core.AuthkeyResolver: NexusPHP's
// "TORRENT|USER|HASH" (TORRENT and USER the site's ids) names the passkey
// of the member with site id USER when HASH is a Hashids hash under the
// member's report secret for TORRENT, else for every torrent (as
// NexusPHP's TorrentRepository::checkTrackerReportAuthKey decides: any
// number decoded is valid; the date it encodes is not checked).
func (c *Cache) PasskeyByAuthkey(authkey string) (string, bool) {
	tidS, rest, ok1 := strings.Cut(authkey, "|")
	uidS, hash, ok2 := strings.Cut(rest, "|")
	if !ok1 || !ok2 || hash == "" || strings.IndexByte(hash, '|') >= 0 {
		return "", false
	}
	tid, err1 := strconv.ParseUint(tidS, 10, 64)
	uid, err2 := strconv.ParseUint(uidS, 10, 64)
	if err1 != nil || err2 != nil || uid == 0 {
		return "", false
	}
	c.idMu.Lock()
	id, known := c.siteUsers[uid]
	pk := c.userKeys[id]
	c.idMu.Unlock()
	if !known || pk == "" {
		return "", false
	}
	secrets := (*c.secrets.Load())[id]
	h := secrets[tid]
	if h == nil {
		h = secrets[0]
	}
	if h == nil || h.Decode(hash) == nil {
		return "", false
	}
	return pk, true
}
