// Package unit3d owns UNIT3D-Announce's control protocol, so that UNIT3D
// (app/Services/Unit3dAnnounce.php) drives ratioguard unmodified: JSON
// bodies on PUT and DELETE /announce/{apikey}/torrents, users (with
// new_passkey to change a passkey), groups (their freeleech and double
// upload factors, their slugs as member classes), freeleech-tokens,
// personal-freeleech, featured-torrents and blacklisted-agents, and GET
// torrents/{id}, users/{id} and stats. Members, torrents and groups are
// addressed by UNIT3D's ids. The apikey is compared in constant time. It
// answers 200 when the change is made, else 4xx/5xx with a one-line reason
// (UNIT3D logs the status and body and retries).
package unit3d

import (
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ratioguard/ratioguard/tracker/control"
)

// actor names the site in audit rows.
const actor = "site:unit3d"

// maxBody caps a request body (UNIT3D's are a few hundred bytes).
const maxBody = 64 << 10

// Handler answers UNIT3D-Announce's control requests.
type Handler struct {
	svc    *control.Service
	apikey string
	log    *slog.Logger
	rates  *rates
}

// New returns the handler for apikey (UNIT3D's TRACKER_KEY, at least 32
// characters); Mount puts its routes on a router.
func New(svc *control.Service, apikey string, log *slog.Logger) (*Handler, error) {
	if len(apikey) < 32 {
		return nil, fmt.Errorf("unit3d api key is %d characters, at least 32 are needed", len(apikey))
	}
	h := &Handler{svc: svc, apikey: apikey, log: log, rates: newRates(time.Now())}
	if tr := svc.Tracker(); tr != nil {
		h.rates.snapshot(time.Now(), tr.Announces()) // announces before this handler are not in its rates
	}
	return h, nil
}

// Mount registers /announce/{apikey}/... on r.
func (h *Handler) Mount(r chi.Router) {
	r.Route("/announce/{apikey}", func(r chi.Router) {
		r.Use(h.auth)
		r.Put("/torrents", h.putTorrent)
		r.Delete("/torrents", h.deleteTorrent)
		r.Get("/torrents/{id}", h.getTorrent)
		r.Put("/users", h.putUser)
		r.Delete("/users", h.deleteUser)
		r.Get("/users/{id}", h.getUser)
		r.Put("/groups", h.putGroup)
		r.Delete("/groups", h.deleteGroup)
		r.Put("/blacklisted-agents", h.agent(true))
		r.Delete("/blacklisted-agents", h.agent(false))
		r.Put("/freeleech-tokens", h.token(true))
		r.Delete("/freeleech-tokens", h.token(false))
		r.Put("/personal-freeleech", h.personal(true))
		r.Delete("/personal-freeleech", h.personal(false))
		r.Put("/featured-torrents", h.featured(true))
		r.Delete("/featured-torrents", h.featured(false))
		r.Get("/stats", h.stats)
	})
}

func (h *Handler) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(chi.URLParam(r, "apikey")), []byte(h.apikey)) != 1 {
			h.fail(w, r, http.StatusForbidden, errors.New("authentication failure"))
			return
		}
		h.rates.request(time.Now())
		next.ServeHTTP(w, r)
	})
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, code int, err error) {
	msg := err.Error()
	if code == http.StatusInternalServerError {
		h.log.Error("unit3d control request failed", "method", r.Method, "path", redact(r.URL.Path), "err", err)
		msg = "internal error: the change was not made, retry later"
	} else {
		h.log.Warn("unit3d control request refused", "method", r.Method, "path", redact(r.URL.Path), "status", code, "err", err)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg + "\n"))
}

// redact hides the apikey in logged paths.
func redact(p string) string {
	rest, ok := strings.CutPrefix(p, "/announce/")
	if !ok {
		return p
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return "/announce/…" + rest[i:]
	}
	return "/announce/…"
}

// done answers a change: 200 or the error's status.
func (h *Handler) done(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		h.fail(w, r, control.HTTPStatus(err), err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (h *Handler) json(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		h.log.Warn("unit3d: write answer", "err", err)
	}
}

// Decode reads a JSON body into v (unknown fields are ignored: a newer
// UNIT3D may send more) and checks that every field named in required was
// present.
func Decode(body io.Reader, v any, required ...string) error {
	b, err := io.ReadAll(io.LimitReader(body, maxBody+1))
	if err != nil {
		return control.Invalidf("read body: %v", err)
	}
	if len(b) > maxBody {
		return control.Invalidf("body over %d bytes", maxBody)
	}
	var present map[string]json.RawMessage
	if err := json.Unmarshal(b, &present); err != nil {
		return control.Invalidf("body is not a JSON object: %v", err)
	}
	for _, k := range required {
		if v, ok := present[k]; !ok || string(v) == "null" {
			return control.Invalidf("missing field %s", k)
		}
	}
	if err := json.Unmarshal(b, v); err != nil {
		return control.Invalidf("%v", err)
	}
	return nil
}

// ID is a UNIT3D id: a positive integer, given as a JSON number or a
// string of digits (PHP sends either, depending on the model's casts).
type ID int64

// UnmarshalJSON implements json.Unmarshaler.
func (id *ID) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("id %s is not a positive integer", control.Clip(string(b)))
	}
	*id = ID(n)
	return nil
}

// Flag is a JSON boolean, or 0/1 as PHP may send them.
type Flag bool

// UnmarshalJSON implements json.Unmarshaler.
func (f *Flag) UnmarshalJSON(b []byte) error {
	switch strings.Trim(string(b), `"`) {
	case "true", "1":
		*f = true
	case "false", "0":
		*f = false
	default:
		return fmt.Errorf("%s is not a boolean", control.Clip(string(b)))
	}
	return nil
}

// Torrent is the body of PUT /torrents.
type Torrent struct {
	ID             ID     `json:"id"`
	Status         Status `json:"status"`
	InfoHash       string `json:"info_hash"` // 40 hex digits
	IsDeleted      Flag   `json:"is_deleted"`
	DownloadFactor int    `json:"download_factor"`
	UploadFactor   int    `json:"upload_factor"`
}

// Status is UNIT3D's moderation status: 0 pending, 1 approved, 2
// rejected, 3 postponed (a number, a numeric string or the name).
type Status string

// UnmarshalJSON implements json.Unmarshaler.
func (s *Status) UnmarshalJSON(b []byte) error {
	v := strings.ToLower(strings.Trim(string(b), `"`))
	if name, ok := statusNames[v]; ok {
		*s = Status(name)
		return nil
	}
	for _, name := range statusNames {
		if v == name {
			*s = Status(name)
			return nil
		}
	}
	return fmt.Errorf("status %s is not 0 (pending), 1 (approved), 2 (rejected) or 3 (postponed)", control.Clip(string(b)))
}

var statusNames = map[string]string{"0": "pending", "1": "approved", "2": "rejected", "3": "postponed"}

// InfoHashBytes decodes the hex info_hash.
func (t Torrent) InfoHashBytes() ([]byte, error) {
	b, err := hex.DecodeString(t.InfoHash)
	if err != nil || len(b) != 20 {
		return nil, control.Invalidf("info_hash %q is not 40 hex digits", control.Clip(t.InfoHash))
	}
	return b, nil
}

// Promotion maps UNIT3D's factors to a torrent promotion.
func Promotion(download, upload int) (control.Promotion, error) {
	if download < 0 || download > 100 {
		return control.Promotion{}, control.Invalidf("download_factor %d is not within 0..100", download)
	}
	if upload < 100 || upload > 1000 {
		return control.Promotion{}, control.Invalidf("upload_factor %d is not within 100..1000", upload)
	}
	var parts []string
	switch {
	case download == 0:
		parts = append(parts, "freeleech")
	case download < 100:
		parts = append(parts, fmt.Sprintf("%d%% freeleech", 100-download))
	}
	if upload > 100 {
		parts = append(parts, fmt.Sprintf("%dx upload", upload/100))
		if upload%100 != 0 {
			parts[len(parts)-1] = fmt.Sprintf("%d%% upload", upload)
		}
	}
	name := "none"
	if len(parts) > 0 {
		name = strings.Join(parts, "+")
	}
	return control.Promotion{Name: name, DownloadPercent: download, UploadPercent: upload}, nil
}

func (h *Handler) putTorrent(w http.ResponseWriter, r *http.Request) {
	var t Torrent
	if err := Decode(r.Body, &t, "id", "status", "info_hash", "download_factor", "upload_factor"); err != nil {
		h.done(w, r, err)
		return
	}
	ih, err := t.InfoHashBytes()
	if err != nil {
		h.done(w, r, err)
		return
	}
	promo, err := Promotion(t.DownloadFactor, t.UploadFactor)
	if err != nil {
		h.done(w, r, err)
		return
	}
	_, _, err = h.svc.PutTorrent(r.Context(), actor, control.TorrentInput{SiteID: int64(t.ID), InfoHash: ih, Size: -1,
		Promotion: &promo, Moderation: string(t.Status)})
	if err == nil && bool(t.IsDeleted) {
		err = h.svc.DeleteTorrent(r.Context(), actor, control.TorrentRef{SiteID: int64(t.ID)}, "")
	}
	h.done(w, r, err)
}

func (h *Handler) deleteTorrent(w http.ResponseWriter, r *http.Request) {
	var t struct {
		ID       ID     `json:"id"`
		InfoHash string `json:"info_hash"`
	}
	if err := Decode(r.Body, &t, "id"); err != nil {
		h.done(w, r, err)
		return
	}
	h.done(w, r, h.svc.DeleteTorrent(r.Context(), actor, control.TorrentRef{SiteID: int64(t.ID)}, ""))
}

// TorrentAnswer is GET /torrents/{id}, as Unit3dAnnounce::getTorrent checks it.
type TorrentAnswer struct {
	ID             int64           `json:"id"`
	Status         string          `json:"status"`
	IsDeleted      bool            `json:"is_deleted"`
	Peers          map[string]Peer `json:"peers"`
	Seeders        int             `json:"seeders"`
	Leechers       int             `json:"leechers"`
	TimesCompleted int             `json:"times_completed"`
	DownloadFactor int             `json:"download_factor"`
	UploadFactor   int             `json:"upload_factor"`
}

// Peer is one peer of TorrentAnswer.
type Peer struct {
	IPAddress  string `json:"ip_address"`
	UserID     int64  `json:"user_id"`
	TorrentID  int64  `json:"torrent_id"`
	Port       int    `json:"port"`
	IsSeeder   bool   `json:"is_seeder"`
	IsActive   bool   `json:"is_active"`
	IsVisible  bool   `json:"is_visible"`
	UpdatedAt  int64  `json:"updated_at"`
	Uploaded   uint64 `json:"uploaded"`
	Downloaded uint64 `json:"downloaded"`
}

func pathID(r *http.Request) (int64, error) {
	n, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || n <= 0 {
		return 0, control.Invalidf("id %q is not a positive integer", control.Clip(chi.URLParam(r, "id")))
	}
	return n, nil
}

func (h *Handler) getTorrent(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.done(w, r, err)
		return
	}
	t, err := h.svc.Torrent(r.Context(), control.TorrentRef{SiteID: id})
	if err != nil {
		h.done(w, r, err)
		return
	}
	ans := TorrentAnswer{ID: id, Status: strings.ToUpper(t.Moderation[:1]) + t.Moderation[1:], IsDeleted: t.DeletedAt != nil,
		Peers: map[string]Peer{}, DownloadFactor: t.Promotion.DownloadPercent, UploadFactor: t.Promotion.UploadPercent}
	if t.Featured {
		ans.DownloadFactor, ans.UploadFactor = 0, max(200, ans.UploadFactor)
	}
	if tr := h.svc.Tracker(); tr != nil {
		peers := tr.TorrentPeers(uint64(t.ID))
		ids := make([]int64, len(peers))
		for i, p := range peers {
			ids[i] = int64(p.UserID)
		}
		site, err := h.svc.MemberSiteIDs(r.Context(), ids)
		if err != nil {
			h.done(w, r, err)
			return
		}
		for _, p := range peers {
			key := fmt.Sprintf("%d:%s", site[int64(p.UserID)], hex.EncodeToString(p.PeerID[:]))
			ans.Peers[key] = Peer{IPAddress: p.Addr.String(), UserID: site[int64(p.UserID)], TorrentID: id, Port: int(p.Port),
				IsSeeder: p.Seeder, IsActive: true, IsVisible: true, UpdatedAt: p.LastSeen.Unix(), Uploaded: p.Uploaded, Downloaded: p.Downloaded}
			if p.Seeder {
				ans.Seeders++
			} else {
				ans.Leechers++
			}
		}
		if ih, err := hex.DecodeString(t.InfoHash); err == nil && len(ih) == 20 {
			if st, ok := tr.Scrape([20]byte(ih)); ok {
				ans.TimesCompleted = int(st.Downloaded)
			}
		}
	}
	h.json(w, ans)
}

// User is the body of PUT /users. NewPasskey, when given, replaces the
// member's passkey (the old one is refused from then on).
type User struct {
	ID          ID     `json:"id"`
	GroupID     ID     `json:"group_id"`
	Passkey     string `json:"passkey"`
	NewPasskey  string `json:"new_passkey"`
	CanDownload Flag   `json:"can_download"`
}

// blockedGroups are the groups UNIT3D-Announce refuses to announce.
var blockedGroups = map[string]bool{"banned": true, "validating": true, "disabled": true}

// GroupRefusal is the disabled reason of a member of a blocked group.
func GroupRefusal(slug string) string { return "your group (" + slug + ") may not announce" }

// Blocked says whether UNIT3D-Announce refuses the members of the group
// with this slug (banned, validating, disabled).
func Blocked(slug string) bool { return blockedGroups[slug] }

func (h *Handler) putUser(w http.ResponseWriter, r *http.Request) {
	var u User
	if err := Decode(r.Body, &u, "id", "group_id", "passkey", "can_download"); err != nil {
		h.done(w, r, err)
		return
	}
	pk := u.Passkey
	if u.NewPasskey != "" {
		pk = u.NewPasskey
	}
	class, err := h.svc.ClassOfGroup(r.Context(), int64(u.GroupID))
	if errors.Is(err, control.ErrNotFound) {
		class, err = control.GroupClass(int64(u.GroupID)), nil
	}
	if err != nil {
		h.done(w, r, err)
		return
	}
	canLeech := bool(u.CanDownload)
	m, _, err := h.svc.PutMember(r.Context(), actor, control.MemberInput{SiteID: int64(u.ID), Passkey: pk, Class: &class, CanLeech: &canLeech})
	if err != nil {
		h.done(w, r, err)
		return
	}
	// A member of a blocked group is refused; leaving it lets the member
	// announce again (only a refusal this adapter made is lifted).
	switch {
	case blockedGroups[class] && m.Enabled:
		off, reason := false, GroupRefusal(class)
		_, err = h.svc.UpdateMember(r.Context(), actor, control.MemberRef{ID: m.ID}, control.MemberPatch{Enabled: &off, DisabledReason: &reason})
	case !blockedGroups[class] && !m.Enabled && strings.HasPrefix(m.DisabledReason, "your group (") && strings.HasSuffix(m.DisabledReason, ") may not announce"):
		on := true
		_, err = h.svc.UpdateMember(r.Context(), actor, control.MemberRef{ID: m.ID}, control.MemberPatch{Enabled: &on})
	}
	h.done(w, r, err)
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) {
	var u struct {
		ID      ID     `json:"id"`
		Passkey string `json:"passkey"`
	}
	if err := Decode(r.Body, &u, "id"); err != nil {
		h.done(w, r, err)
		return
	}
	h.done(w, r, h.svc.RemoveMember(r.Context(), actor, control.MemberRef{SiteID: int64(u.ID)}))
}

// UserAnswer is GET /users/{id}, as Unit3dAnnounce::getUser checks it.
type UserAnswer struct {
	ID          int64  `json:"id"`
	GroupID     int64  `json:"group_id"`
	Passkey     string `json:"passkey"`
	CanDownload bool   `json:"can_download"`
	NumSeeding  int    `json:"num_seeding"`
	NumLeeching int    `json:"num_leeching"`
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.done(w, r, err)
		return
	}
	m, err := h.svc.Member(r.Context(), control.MemberRef{SiteID: id})
	if err == nil && !m.Enabled && m.DisabledReason == control.RemovedReason {
		err = fmt.Errorf("%w: member with site id %d was removed", control.ErrNotFound, id)
	}
	if err != nil {
		h.done(w, r, err)
		return
	}
	ans := UserAnswer{ID: id, Passkey: m.Passkey, CanDownload: m.CanLeech}
	if m.SiteGroupID != nil {
		ans.GroupID = *m.SiteGroupID
	} else if g, ok := strings.CutPrefix(m.Class, "group-"); ok {
		ans.GroupID, _ = strconv.ParseInt(g, 10, 64)
	}
	if tr := h.svc.Tracker(); tr != nil {
		ans.NumSeeding, ans.NumLeeching = tr.UserPeers(uint64(m.ID))
	}
	h.json(w, ans)
}

// Group is the body of PUT /groups.
type Group struct {
	ID             ID     `json:"id"`
	Slug           string `json:"slug"`
	DownloadSlots  *int   `json:"download_slots"`
	IsImmune       Flag   `json:"is_immune"`
	IsFreeleech    Flag   `json:"is_freeleech"`
	IsDoubleUpload Flag   `json:"is_double_upload"`
}

func (h *Handler) putGroup(w http.ResponseWriter, r *http.Request) {
	var g Group
	if err := Decode(r.Body, &g, "id", "slug"); err != nil {
		h.done(w, r, err)
		return
	}
	h.done(w, r, h.svc.PutClass(r.Context(), actor, g.Class()))
}

// Class is the member class of the group: named by its slug, freeleech
// and double upload as its factors, download_slots null unlimited and 0
// seeding only (UNIT3D-Announce's Some(0)).
func (g Group) Class() control.Class {
	gid := int64(g.ID)
	c := control.Class{Name: g.Slug, SiteGroupID: &gid, DownloadPercent: 100, UploadPercent: 100, Immune: bool(g.IsImmune)}
	if g.IsFreeleech {
		c.DownloadPercent = 0
	}
	if g.IsDoubleUpload {
		c.UploadPercent = 200
	}
	c.DownloadSlots = g.DownloadSlots
	return c
}

func (h *Handler) deleteGroup(w http.ResponseWriter, r *http.Request) {
	var g struct {
		ID ID `json:"id"`
	}
	if err := Decode(r.Body, &g, "id"); err != nil {
		h.done(w, r, err)
		return
	}
	name, err := h.svc.ClassOfGroup(r.Context(), int64(g.ID))
	if err == nil {
		err = h.svc.DeleteClass(r.Context(), actor, name)
	}
	h.done(w, r, err)
}

// BlacklistRule is the client rule of a UNIT3D blacklisted client (its
// peer_id prefix).
func BlacklistRule(prefix string) control.ClientRule {
	return control.ClientRule{Prefix: prefix, Allowed: false, Reason: "your client is blacklisted on this site"}
}

// agent adds (put) or removes a blacklisted client: a banning client rule
// on its peer_id prefix ("peer_id_prefix", or "name" in older UNIT3D).
func (h *Handler) agent(put bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var a struct {
			PeerIDPrefix *string `json:"peer_id_prefix"`
			Name         *string `json:"name"`
		}
		if err := Decode(r.Body, &a); err != nil {
			h.done(w, r, err)
			return
		}
		var prefix string
		switch {
		case a.PeerIDPrefix != nil:
			prefix = *a.PeerIDPrefix
		case a.Name != nil:
			prefix = *a.Name
		}
		if prefix == "" {
			h.done(w, r, control.Invalidf("missing field peer_id_prefix"))
			return
		}
		var err error
		if put {
			_, err = h.svc.AddClientRule(r.Context(), actor, BlacklistRule(prefix))
		} else {
			_, err = h.svc.DeleteClientRules(r.Context(), actor, prefix, false)
		}
		h.done(w, r, err)
	}
}

func (h *Handler) token(put bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var t struct {
			UserID    ID `json:"user_id"`
			TorrentID ID `json:"torrent_id"`
		}
		if err := Decode(r.Body, &t, "user_id", "torrent_id"); err != nil {
			h.done(w, r, err)
			return
		}
		m, tr := control.MemberRef{SiteID: int64(t.UserID)}, control.TorrentRef{SiteID: int64(t.TorrentID)}
		if put {
			h.done(w, r, h.svc.AddToken(r.Context(), actor, m, tr, false)) // UNIT3D's last until removed
			return
		}
		h.done(w, r, h.svc.RemoveToken(r.Context(), actor, m, tr))
	}
}

func (h *Handler) personal(put bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			UserID ID `json:"user_id"`
		}
		if err := Decode(r.Body, &p, "user_id"); err != nil {
			h.done(w, r, err)
			return
		}
		ref := control.MemberRef{SiteID: int64(p.UserID)}
		if put {
			h.done(w, r, h.svc.SetPersonalFreeleech(r.Context(), actor, ref, nil))
			return
		}
		h.done(w, r, h.svc.RemovePersonalFreeleech(r.Context(), actor, ref))
	}
}

func (h *Handler) featured(put bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var f struct {
			TorrentID ID `json:"torrent_id"`
		}
		if err := Decode(r.Body, &f, "torrent_id"); err != nil {
			h.done(w, r, err)
			return
		}
		h.done(w, r, h.svc.SetFeatured(r.Context(), actor, control.TorrentRef{SiteID: int64(f.TorrentID)}, put))
	}
}

// stats answers GET /stats with the fields Unit3dAnnounce::getStats
// checks: times as Unix seconds, request and announce rates as
// exponentially decaying counts over 1 s to 2 h (UNIT3D-Announce's
// definition), requests being this API's and announces the tracker's.
func (h *Handler) stats(w http.ResponseWriter, _ *http.Request) {
	var announces uint64
	if tr := h.svc.Tracker(); tr != nil {
		announces = tr.Announces()
	}
	h.json(w, h.rates.snapshot(time.Now(), announces))
}

// windows of the decaying rates, in seconds.
var windows = []float64{1, 10, 60, 900, 7200}

// rates keeps UNIT3D-Announce's decaying counters.
type rates struct {
	mu            sync.Mutex
	created       time.Time
	lastRequest   time.Time
	lastAnnounce  time.Time
	lastCount     uint64
	requests      [5]float64
	announces     [5]float64
	announcesSeen bool
}

func newRates(now time.Time) *rates {
	return &rates{created: now, lastRequest: now, lastAnnounce: now}
}

func decay(v *[5]float64, elapsed float64, add float64) {
	for i, win := range windows {
		v[i] = v[i]*math.Exp(-elapsed/win) + add
	}
}

func (r *rates) request(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	decay(&r.requests, now.Sub(r.lastRequest).Seconds(), 1)
	r.lastRequest = now
}

// snapshot folds the announces counted since the last call into the
// announce rates and returns the stats document.
func (r *rates) snapshot(now time.Time, count uint64) map[string]float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.announcesSeen {
		r.lastCount, r.announcesSeen = count, true
	}
	if count > r.lastCount {
		decay(&r.announces, now.Sub(r.lastAnnounce).Seconds(), float64(count-r.lastCount))
		r.lastAnnounce, r.lastCount = now, count
	}
	unix := func(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
	out := map[string]float64{
		"created_at":                unix(r.created),
		"last_request_at":           unix(r.lastRequest),
		"last_announce_response_at": unix(r.lastAnnounce),
	}
	req, ann := r.requests, r.announces
	decay(&req, now.Sub(r.lastRequest).Seconds(), 0)
	decay(&ann, now.Sub(r.lastAnnounce).Seconds(), 0)
	for i, win := range windows {
		out[fmt.Sprintf("requests_per_%.0fs", win)] = req[i]
		out[fmt.Sprintf("announce_responses_per_%.0fs", win)] = ann[i]
	}
	return out
}
