// Package ocelot owns Ocelot's control protocol, so that Gazelle (OPS)
// drives ratioguard unmodified: GET /{site_secret}/update?action=… with
// Ocelot's actions and parameters, and GET /{report_key}/report?get=stats
// and ?get=user&key=PASSKEY. It parses Gazelle's requests as Ocelot does
// (values percent-decoded, '+' kept: Gazelle builds them with
// rawurlencode; info_hash is the raw 20 bytes percent-encoded; remove_users'
// passkeys and update_torrents' info_hashes are concatenated) and calls the
// control service; it answers "success" (HTTP 200) when the change is made,
// or an HTTP 4xx/5xx with a one-line reason, which Gazelle logs as a
// failed tracker update. Secrets are compared in constant time.
package ocelot

import (
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ratioguard/ratioguard/tracker/control"
)

// Config holds Gazelle's secrets (TRACKER_SECRET, TRACKER_REPORTKEY); an
// empty one disables its route.
type Config struct {
	SiteSecret string
	ReportKey  string
}

// Handler answers Ocelot's control requests.
type Handler struct {
	svc *control.Service
	cfg Config
	log *slog.Logger
}

// New returns the handler; Mount puts its routes on a router.
func New(svc *control.Service, cfg Config, log *slog.Logger) *Handler {
	return &Handler{svc: svc, cfg: cfg, log: log}
}

// Mount registers GET /{secret}/update and /{secret}/report on r.
func (h *Handler) Mount(r chi.Router) {
	r.Get("/{secret}/update", h.update)
	r.Get("/{secret}/report", h.report)
}

// actor names the site in audit rows.
const actor = "site:gazelle"

// secretOK compares in constant time (an empty expected secret never matches).
func secretOK(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// Params are an update's query parameters, decoded as Ocelot does.
type Params map[string]string

// ParseQuery splits a raw query as Ocelot does: '&' between pairs, the
// first '=' between key and value, %XX decoded, '+' kept as is. A bad
// escape or a repeated key is an error (Ocelot would silently keep a
// garbled or the last value).
func ParseQuery(raw string) (Params, error) {
	p := Params{}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.PathUnescape(k)
		if err != nil {
			return nil, fmt.Errorf("parameter name %q: %v", control.Clip(k), err)
		}
		val, err := url.PathUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %v", key, err)
		}
		if _, dup := p[key]; dup {
			return nil, fmt.Errorf("parameter %s given twice", key)
		}
		p[key] = val
	}
	return p, nil
}

// need returns a required parameter.
func (p Params) need(key string) (string, error) {
	v, ok := p[key]
	if !ok || v == "" {
		return "", control.Invalidf("missing parameter %s", key)
	}
	return v, nil
}

// InfoHash returns the 20-byte info_hash of parameter key.
func (p Params) InfoHash(key string) ([]byte, error) {
	v, err := p.need(key)
	if err != nil {
		return nil, err
	}
	if len(v) != 20 {
		return nil, control.Invalidf("%s is %d bytes once decoded, want 20 (the raw info_hash, percent-encoded)", key, len(v))
	}
	return []byte(v), nil
}

// InfoHashes returns the concatenated 20-byte hashes of parameter key.
func (p Params) InfoHashes(key string) ([][]byte, error) {
	v, err := p.need(key)
	if err != nil {
		return nil, err
	}
	if len(v)%20 != 0 {
		return nil, control.Invalidf("%s is %d bytes once decoded, not a whole number of 20-byte info_hashes", key, len(v))
	}
	out := make([][]byte, 0, len(v)/20)
	for i := 0; i < len(v); i += 20 {
		out = append(out, []byte(v[i:i+20]))
	}
	return out, nil
}

// ID returns a positive integer parameter.
func (p Params) ID(key string) (int64, error) {
	v, err := p.need(key)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, control.Invalidf("%s %q is not a positive integer", key, control.Clip(v))
	}
	return n, nil
}

// Passkey returns a passkey parameter.
func (p Params) Passkey(key string) (string, error) {
	v, err := p.need(key)
	if err != nil {
		return "", err
	}
	if err := control.CheckPasskey(v); err != nil {
		return "", control.Invalidf("%s: %v", key, err)
	}
	return v, nil
}

// Flag returns a "0"/"1" parameter (def when absent).
func (p Params) Flag(key string, def bool) (bool, error) {
	v, ok := p[key]
	if !ok {
		return def, nil
	}
	switch v {
	case "0":
		return false, nil
	case "1":
		return true, nil
	}
	return false, control.Invalidf("%s %q is not 0 or 1", key, control.Clip(v))
}

// Freetorrent maps Ocelot's freetorrent (Gazelle's LeechType: 0 normal, 1
// free, 2 neutral) to a torrent promotion.
func (p Params) Freetorrent() (control.Promotion, error) {
	v, ok := p["freetorrent"]
	if !ok {
		return control.Promotion{}, control.Invalidf("missing parameter freetorrent")
	}
	switch v {
	case "0":
		return control.PromoNone, nil
	case "1":
		return control.PromoFree, nil
	case "2":
		return control.PromoNeutral, nil
	}
	return control.Promotion{}, control.Invalidf("freetorrent %q is not 0 (normal), 1 (free) or 2 (neutral)", control.Clip(v))
}

// deleteReasons are Ocelot's deletion reason codes (Gazelle's report types).
var deleteReasons = []string{"Dupe", "Trump", "Bad File Names", "Bad Folder Names", "Bad Tags",
	"Disallowed Format", "Discs Missing", "Discography", "Edited Log", "Inaccurate Bitrate", "Low Bitrate",
	"Mutt Rip", "Disallowed Source", "Encode Errors", "Specifically Banned", "Tracks Missing", "Transcode",
	"Unapproved Cassette", "Unsplit Album", "User Compilation", "Wrong Format", "Wrong Media", "Audience Recording"}

// DeleteReason maps delete_torrent's reason: one of Ocelot's codes, -1 or
// absent for none, or (ratioguard's extension) the reason's text.
func (p Params) DeleteReason() (string, error) {
	v, ok := p["reason"]
	if !ok || v == "" || v == "-1" {
		return "", nil
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 || n >= len(deleteReasons) {
			return "", control.Invalidf("reason %d is not one of Ocelot's codes 0..%d", n, len(deleteReasons)-1)
		}
		return deleteReasons[n], nil
	}
	if len(v) > 200 {
		return "", control.Invalidf("reason is %d bytes, at most 200", len(v))
	}
	return v, nil
}

// Seconds returns a duration parameter given in whole seconds.
func (p Params) Seconds(key string, min int64) (time.Duration, error) {
	v, err := p.need(key)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < min {
		return 0, control.Invalidf("%s %q is not a whole number of seconds ≥ %d", key, control.Clip(v), min)
	}
	return time.Duration(n) * time.Second, nil
}

func (h *Handler) update(w http.ResponseWriter, r *http.Request) {
	if !secretOK(chi.URLParam(r, "secret"), h.cfg.SiteSecret) {
		h.fail(w, r, http.StatusForbidden, "", errors.New("authentication failure"))
		return
	}
	p, err := ParseQuery(r.URL.RawQuery)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, "", control.Invalidf("%v", err))
		return
	}
	action := p["action"]
	do, ok := actions[action]
	if !ok {
		h.fail(w, r, http.StatusBadRequest, action, control.Invalidf("unknown action %q", control.Clip(action)))
		return
	}
	body, err := do(h, r, p)
	if err != nil {
		h.fail(w, r, control.HTTPStatus(err), action, err)
		return
	}
	if body == "" {
		body = "success"
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(body))
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, code int, action string, err error) {
	msg := err.Error()
	if code == http.StatusInternalServerError {
		h.log.Error("ocelot control request failed", "action", action, "err", err)
		msg = "internal error: the change was not made, retry later"
	} else {
		h.log.Warn("ocelot control request refused", "action", action, "status", code, "err", err, "remote", r.RemoteAddr)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg + "\n"))
}

type action func(h *Handler, r *http.Request, p Params) (string, error)

// actions are Ocelot's update actions.
var actions = map[string]action{
	"change_passkey":           (*Handler).changePasskey,
	"add_torrent":              (*Handler).addTorrent,
	"update_torrent":           (*Handler).updateTorrent,
	"update_torrents":          (*Handler).updateTorrents,
	"delete_torrent":           (*Handler).deleteTorrent,
	"add_token":                (*Handler).addToken,
	"remove_token":             (*Handler).removeToken,
	"add_user":                 (*Handler).addUser,
	"update_user":              (*Handler).updateUser,
	"remove_user":              (*Handler).removeUser,
	"remove_users":             (*Handler).removeUsers,
	"add_whitelist":            (*Handler).addWhitelist,
	"edit_whitelist":           (*Handler).editWhitelist,
	"remove_whitelist":         (*Handler).removeWhitelist,
	"update_announce_interval": (*Handler).updateInterval,
	"update_announce_jitter":   (*Handler).updateJitter,
	"info_torrent":             (*Handler).infoTorrent,
}

func (h *Handler) changePasskey(r *http.Request, p Params) (string, error) {
	old, err := p.Passkey("oldpasskey")
	if err != nil {
		return "", err
	}
	nk, err := p.Passkey("newpasskey")
	if err != nil {
		return "", err
	}
	_, err = h.svc.ChangePasskey(r.Context(), actor, old, nk)
	return "", err
}

func (h *Handler) addTorrent(r *http.Request, p Params) (string, error) {
	ih, err := p.InfoHash("info_hash")
	if err != nil {
		return "", err
	}
	id, err := p.ID("id")
	if err != nil {
		return "", err
	}
	promo, err := p.Freetorrent()
	if err != nil {
		return "", err
	}
	_, _, err = h.svc.PutTorrent(r.Context(), actor, control.TorrentInput{SiteID: id, InfoHash: ih, Size: -1, Promotion: &promo})
	return "", err
}

func (h *Handler) updateTorrent(r *http.Request, p Params) (string, error) {
	ih, err := p.InfoHash("info_hash")
	if err != nil {
		return "", err
	}
	promo, err := p.Freetorrent()
	if err != nil {
		return "", err
	}
	return "", h.svc.SetPromotion(r.Context(), actor, []control.TorrentRef{{InfoHash: ih}}, promo)
}

func (h *Handler) updateTorrents(r *http.Request, p Params) (string, error) {
	ihs, err := p.InfoHashes("info_hashes")
	if err != nil {
		return "", err
	}
	promo, err := p.Freetorrent()
	if err != nil {
		return "", err
	}
	refs := make([]control.TorrentRef, len(ihs))
	for i, ih := range ihs {
		refs[i] = control.TorrentRef{InfoHash: ih}
	}
	return "", h.svc.SetPromotion(r.Context(), actor, refs, promo)
}

func (h *Handler) deleteTorrent(r *http.Request, p Params) (string, error) {
	ih, err := p.InfoHash("info_hash")
	if err != nil {
		return "", err
	}
	reason, err := p.DeleteReason()
	if err != nil {
		return "", err
	}
	return "", h.svc.DeleteTorrent(r.Context(), actor, control.TorrentRef{InfoHash: ih}, reason)
}

func (h *Handler) token(r *http.Request, p Params, on bool) (string, error) {
	ih, err := p.InfoHash("info_hash")
	if err != nil {
		return "", err
	}
	uid, err := p.ID("userid")
	if err != nil {
		return "", err
	}
	m, t := control.MemberRef{SiteID: uid}, control.TorrentRef{InfoHash: ih}
	if on {
		// Ocelot expires a token when its holder completes the download.
		return "", h.svc.AddToken(r.Context(), actor, m, t, true)
	}
	return "", h.svc.RemoveToken(r.Context(), actor, m, t)
}

func (h *Handler) addToken(r *http.Request, p Params) (string, error)    { return h.token(r, p, true) }
func (h *Handler) removeToken(r *http.Request, p Params) (string, error) { return h.token(r, p, false) }

func (h *Handler) addUser(r *http.Request, p Params) (string, error) {
	pk, err := p.Passkey("passkey")
	if err != nil {
		return "", err
	}
	id, err := p.ID("id")
	if err != nil {
		return "", err
	}
	if _, err := p.Flag("visible", true); err != nil {
		return "", err
	}
	_, _, err = h.svc.PutMember(r.Context(), actor, control.MemberInput{SiteID: id, Passkey: pk})
	return "", err
}

func (h *Handler) updateUser(r *http.Request, p Params) (string, error) {
	pk, err := p.Passkey("passkey")
	if err != nil {
		return "", err
	}
	canLeech, err := p.Flag("can_leech", true)
	if err != nil {
		return "", err
	}
	if _, err := p.Flag("visible", true); err != nil {
		return "", err
	}
	_, err = h.svc.UpdateMember(r.Context(), actor, control.MemberRef{Passkey: pk}, control.MemberPatch{CanLeech: &canLeech})
	return "", err
}

func (h *Handler) removeUser(r *http.Request, p Params) (string, error) {
	pk, err := p.Passkey("passkey")
	if err != nil {
		return "", err
	}
	return "", h.svc.RemoveMember(r.Context(), actor, control.MemberRef{Passkey: pk})
}

// removeUsers removes every member of passkeys (32 characters each,
// concatenated); it checks them all before removing any, and goes on past
// passkeys no member holds (already removed), naming them in its error.
func (h *Handler) removeUsers(r *http.Request, p Params) (string, error) {
	all, err := p.need("passkeys")
	if err != nil {
		return "", err
	}
	if len(all)%32 != 0 {
		return "", control.Invalidf("passkeys is %d characters, not a whole number of 32-character passkeys", len(all))
	}
	for i := 0; i < len(all); i += 32 {
		if err := control.CheckPasskey(all[i : i+32]); err != nil {
			return "", control.Invalidf("passkeys: passkey %d: %v", i/32+1, err)
		}
	}
	var missing []string
	for i := 0; i < len(all); i += 32 {
		err := h.svc.RemoveMember(r.Context(), actor, control.MemberRef{Passkey: all[i : i+32]})
		if errors.Is(err, control.ErrNotFound) {
			missing = append(missing, all[i:i+4]+"…")
			continue
		}
		if err != nil {
			return "", err
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("%w: no member holds %d of the passkeys (%s); the others were removed", control.ErrNotFound, len(missing), strings.Join(missing, ", "))
	}
	return "", nil
}

// peerIDPrefix returns a whitelist entry (a peer_id prefix, 1 to 20 bytes).
func (p Params) peerIDPrefix(key string) (string, error) {
	v, err := p.need(key)
	if err != nil {
		return "", err
	}
	if len(v) > 20 {
		return "", control.Invalidf("%s is %d bytes, a peer_id prefix has at most 20", key, len(v))
	}
	return v, nil
}

// Ocelot's whitelist is the set of allowed peer_id prefixes: rules with
// allowed=true (once any exists, only listed clients may announce).
func (h *Handler) addWhitelist(r *http.Request, p Params) (string, error) {
	pid, err := p.peerIDPrefix("peer_id")
	if err != nil {
		return "", err
	}
	_, err = h.svc.AddClientRule(r.Context(), actor, WhitelistRule(pid))
	return "", err
}

// WhitelistRule is the client rule of a Gazelle whitelist entry (an
// xbt_client_whitelist peer_id).
func WhitelistRule(peerID string) control.ClientRule {
	return control.ClientRule{Prefix: peerID, Allowed: true, Reason: "Gazelle whitelist"}
}

func (h *Handler) editWhitelist(r *http.Request, p Params) (string, error) {
	old, err := p.peerIDPrefix("old_peer_id")
	if err != nil {
		return "", err
	}
	nw, err := p.peerIDPrefix("new_peer_id")
	if err != nil {
		return "", err
	}
	return "", h.svc.RenameClientRules(r.Context(), actor, old, nw, true)
}

func (h *Handler) removeWhitelist(r *http.Request, p Params) (string, error) {
	pid, err := p.peerIDPrefix("peer_id")
	if err != nil {
		return "", err
	}
	_, err = h.svc.DeleteClientRules(r.Context(), actor, pid, true)
	return "", err
}

func (h *Handler) updateInterval(_ *http.Request, p Params) (string, error) {
	d, err := p.Seconds("new_announce_interval", 1)
	if err != nil {
		return "", err
	}
	t := h.svc.Tracker()
	if t == nil {
		return "", errors.New("no tracker runs in this process")
	}
	_, jitter := t.Intervals()
	if err := t.SetInterval(d, jitter); err != nil {
		return "", control.Invalidf("%v", err)
	}
	h.log.Info("announce interval changed by the site", "interval", d)
	return "", nil
}

func (h *Handler) updateJitter(_ *http.Request, p Params) (string, error) {
	d, err := p.Seconds("new_announce_jitter", 0)
	if err != nil {
		return "", err
	}
	t := h.svc.Tracker()
	if t == nil {
		return "", errors.New("no tracker runs in this process")
	}
	interval, _ := t.Intervals()
	if err := t.SetInterval(interval, d); err != nil {
		return "", control.Invalidf("%v", err)
	}
	h.log.Info("announce jitter changed by the site", "jitter", d)
	return "", nil
}

// infoTorrent answers {"hash":HEX,"id":SITE_ID,"free":0|1|2}, or
// {"hash":HEX,"fail":1} for a torrent not registered (or deleted), as Ocelot.
func (h *Handler) infoTorrent(r *http.Request, p Params) (string, error) {
	ih, err := p.InfoHash("info_hash")
	if err != nil {
		return "", err
	}
	out := map[string]any{"hash": hex.EncodeToString(ih)}
	t, err := h.svc.Torrent(r.Context(), control.TorrentRef{InfoHash: ih})
	switch {
	case errors.Is(err, control.ErrNotFound) || (err == nil && t.DeletedAt != nil):
		out["fail"] = 1
	case err != nil:
		return "", err
	default:
		var id int64
		if t.SiteID != nil {
			id = *t.SiteID
		}
		out["id"] = id
		out["free"] = freetorrent(t.Promotion)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", err
	}
	return string(b) + "\n", nil
}

// freetorrent is Ocelot's value of a promotion: 2 neutral, 1 free, 0 other.
func freetorrent(p control.Promotion) int {
	switch {
	case p.DownloadPercent == 0 && p.UploadPercent == 0:
		return 2
	case p.DownloadPercent == 0:
		return 1
	}
	return 0
}

// report answers get=stats (lines "VALUE KEY", as Gazelle parses them) and
// get=user&key=PASSKEY (JSON {"id","leeching","seeding","deleted","protected","can_leech"}).
func (h *Handler) report(w http.ResponseWriter, r *http.Request) {
	if !secretOK(chi.URLParam(r, "secret"), h.cfg.ReportKey) {
		h.fail(w, r, http.StatusForbidden, "report", errors.New("authentication failure"))
		return
	}
	p, err := ParseQuery(r.URL.RawQuery)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, "report", control.Invalidf("%v", err))
		return
	}
	t := h.svc.Tracker()
	if t == nil {
		h.fail(w, r, http.StatusServiceUnavailable, "report", errors.New("no tracker runs in this process"))
		return
	}
	var body string
	switch p["get"] {
	case "stats":
		st := t.Stats()
		interval, jitter := t.Intervals()
		var b strings.Builder
		for _, kv := range []struct {
			v int64
			k string
		}{
			{int64(st.Peers - st.Seeders), "leechers tracked"},
			{int64(st.Seeders), "seeders tracked"},
			{int64(st.Torrents), "torrents tracked"},
			{int64(st.Users), "users tracked"},
			{int64(interval / time.Second), "announce interval"},
			{int64(jitter / time.Second), "announce jitter"},
		} {
			fmt.Fprintf(&b, "%d %s\n", kv.v, kv.k)
		}
		body = b.String()
	case "user":
		pk, err := p.Passkey("key")
		if err != nil {
			h.fail(w, r, http.StatusBadRequest, "report", err)
			return
		}
		m, err := h.svc.Member(r.Context(), control.MemberRef{Passkey: pk})
		if err != nil {
			h.fail(w, r, control.HTTPStatus(err), "report", err)
			return
		}
		seeding, leeching := t.UserPeers(uint64(m.ID))
		var id int64
		if m.SiteID != nil {
			id = *m.SiteID
		}
		b, err := json.Marshal(map[string]any{"id": id, "leeching": leeching, "seeding": seeding,
			"deleted": b01(!m.Enabled && m.DisabledReason == control.RemovedReason), "protected": 0, "can_leech": b01(m.CanLeech)})
		if err != nil {
			h.fail(w, r, http.StatusInternalServerError, "report", err)
			return
		}
		body = string(b) + "\n"
	default:
		h.fail(w, r, http.StatusBadRequest, "report", control.Invalidf("get %q is not stats or user", control.Clip(p["get"])))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(body))
}

func b01(b bool) int {
	if b {
		return 1
	}
	return 0
}
