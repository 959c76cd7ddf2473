// Package api owns ratioguard's native JSON API on the tracker's admin
// listener, under /api/v1: members, torrents, the promotion levels, client
// rules, seedbox ranges and idempotent ledger adjustments, over the control
// service. Every route is declared once in routes with the scope its token
// needs; bearer tokens (api_tokens, SHA-256 kept) are compared in constant
// time against every token known. The OpenAPI document (openapi.json,
// served at /api/v1/openapi.json) describes the same routes; a test walks
// the router against it. Members are named by {member}: an id, site:ID or
// passkey:PASSKEY; torrents by {torrent}: an id, site:ID or the info_hash
// in 40 hex digits.
package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ratioguard/ratioguard/tracker/admin"
	"github.com/ratioguard/ratioguard/tracker/control"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1"

//go:embed openapi.json
var openAPI []byte

// Scopes a token may hold.
var Scopes = map[string]bool{
	"members:read": true, "members:write": true,
	"torrents:read": true, "torrents:write": true,
	"promotions:read": true, "promotions:write": true,
	"rules:read": true, "rules:write": true,
	"ledger:write": true,
}

// maxBody caps request bodies.
const maxBody = 64 << 10

// tokenCacheFor is how long the token list is kept before it is read again
// (a revoked token stops working within it).
const tokenCacheFor = 5 * time.Second

// Handler serves the API.
type Handler struct {
	svc *control.Service
	log *slog.Logger
	now func() time.Time

	mu       sync.Mutex
	tokens   []control.APIToken
	tokensAt time.Time
}

// New returns the API over svc.
func New(svc *control.Service, log *slog.Logger) *Handler {
	return &Handler{svc: svc, log: log, now: time.Now}
}

// route is one API route and the scope its token needs.
type route struct {
	method, pattern, scope string
	h                      func(h *Handler, w http.ResponseWriter, r *http.Request) error
}

// routes are the API, each declared once.
var routes = []route{
	{"GET", "/members", "members:read", (*Handler).listMembers},
	{"POST", "/members", "members:write", (*Handler).putMember},
	{"GET", "/members/{member}", "members:read", (*Handler).getMember},
	{"PATCH", "/members/{member}", "members:write", (*Handler).patchMember},
	{"DELETE", "/members/{member}", "members:write", (*Handler).deleteMember},
	{"POST", "/members/{member}/passkey", "members:write", (*Handler).newPasskey},
	{"PUT", "/members/{member}/personal-freeleech", "promotions:write", (*Handler).putPersonal},
	{"DELETE", "/members/{member}/personal-freeleech", "promotions:write", (*Handler).deletePersonal},
	{"PUT", "/members/{member}/report-secret", "members:write", (*Handler).putReportSecret},
	{"DELETE", "/members/{member}/report-secret", "members:write", (*Handler).deleteReportSecrets},
	{"POST", "/members/{member}/seedboxes", "rules:write", (*Handler).addSeedbox},
	{"DELETE", "/seedboxes/{id}", "rules:write", (*Handler).deleteSeedbox},
	{"GET", "/torrents", "torrents:read", (*Handler).listTorrents},
	{"POST", "/torrents", "torrents:write", (*Handler).putTorrent},
	{"GET", "/torrents/{torrent}", "torrents:read", (*Handler).getTorrent},
	{"DELETE", "/torrents/{torrent}", "torrents:write", (*Handler).deleteTorrent},
	{"PUT", "/torrents/{torrent}/promotion", "promotions:write", (*Handler).putPromotion},
	{"PUT", "/torrents/{torrent}/featured", "promotions:write", (*Handler).putFeatured},
	{"DELETE", "/torrents/{torrent}/featured", "promotions:write", (*Handler).deleteFeatured},
	{"PUT", "/torrents/{torrent}/tokens/{member}", "promotions:write", (*Handler).putToken},
	{"DELETE", "/torrents/{torrent}/tokens/{member}", "promotions:write", (*Handler).deleteToken},
	{"GET", "/site-promotions", "promotions:read", (*Handler).listSitePromotions},
	{"POST", "/site-promotions", "promotions:write", (*Handler).addSitePromotion},
	{"DELETE", "/site-promotions/{id}", "promotions:write", (*Handler).deleteSitePromotion},
	{"PUT", "/classes/{class}", "promotions:write", (*Handler).putClass},
	{"DELETE", "/classes/{class}", "promotions:write", (*Handler).deleteClass},
	{"GET", "/client-rules", "rules:read", (*Handler).listClientRules},
	{"POST", "/client-rules", "rules:write", (*Handler).addClientRule},
	{"DELETE", "/client-rules/{id}", "rules:write", (*Handler).deleteClientRule},
	{"POST", "/ledger/adjustments", "ledger:write", (*Handler).adjust},
}

// Mount registers the API and its OpenAPI document on r.
func (h *Handler) Mount(r chi.Router) {
	r.Route(Prefix, func(r chi.Router) {
		r.Get("/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(openAPI)
		})
		for _, rt := range routes {
			r.With(h.auth(rt.scope)).Method(rt.method, rt.pattern, h.serve(rt))
		}
		r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, http.StatusNotFound, "no such API route: see "+Prefix+"/openapi.json")
		})
		r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, http.StatusMethodNotAllowed, "method not allowed on this route: see "+Prefix+"/openapi.json")
		})
	})
}

type tokenKey struct{}

// auth admits a request whose bearer token holds scope. The token's hash
// is compared with every known token's, each in constant time.
func (h *Handler) auth(scope string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || secret == "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="ratioguard"`)
				writeError(w, http.StatusUnauthorized, "missing bearer token (Authorization: Bearer TOKEN)")
				return
			}
			tokens, err := h.knownTokens(r.Context())
			if err != nil {
				h.log.Error("api: read tokens", "err", err)
				writeError(w, http.StatusServiceUnavailable, "cannot check tokens now: retry later")
				return
			}
			sum := sha256.Sum256([]byte(secret))
			var found *control.APIToken
			for i := range tokens {
				if subtle.ConstantTimeCompare(sum[:], tokens[i].SHA256[:]) == 1 {
					found = &tokens[i]
				}
			}
			if found == nil {
				writeError(w, http.StatusUnauthorized, "unknown or revoked token")
				return
			}
			if !hasScope(found.Scopes, scope) {
				writeError(w, http.StatusForbidden, fmt.Sprintf("token %q lacks scope %s", found.Name, scope))
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, found.Name)))
		})
	}
}

func hasScope(have []string, want string) bool {
	for _, s := range have {
		if s == want {
			return true
		}
	}
	return false
}

func (h *Handler) knownTokens(ctx context.Context) ([]control.APIToken, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.tokens != nil && h.now().Sub(h.tokensAt) < tokenCacheFor {
		return h.tokens, nil
	}
	ts, err := h.svc.APITokens(ctx)
	if err != nil {
		return nil, err
	}
	if ts == nil {
		ts = []control.APIToken{}
	}
	h.tokens, h.tokensAt = ts, h.now()
	return ts, nil
}

// actor names the token in audit rows.
func actor(r *http.Request) string {
	name, _ := r.Context().Value(tokenKey{}).(string)
	return "api:" + name
}

func (h *Handler) serve(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := rt.h(h, w, r)
		if err == nil {
			return
		}
		code := control.HTTPStatus(err)
		msg := err.Error()
		if code == http.StatusInternalServerError {
			h.log.Error("api request failed", "method", r.Method, "route", rt.pattern, "err", err)
			msg = "internal error: nothing was changed, retry later"
		}
		writeError(w, code, msg)
	}
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	return json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body into v strictly: unknown fields, trailing data
// and bodies over maxBody are refused.
func decode(r *http.Request, v any) error {
	d := json.NewDecoder(io.LimitReader(r.Body, maxBody+1))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return control.Invalidf("empty body: a JSON object is expected")
		}
		return control.Invalidf("body: %v", err)
	}
	if d.More() {
		return control.Invalidf("body: data after the JSON object")
	}
	return nil
}

// MemberRef parses {member}: an id, site:ID or passkey:PASSKEY.
func MemberRef(s string) (control.MemberRef, error) {
	switch {
	case strings.HasPrefix(s, "site:"):
		n, err := positive(strings.TrimPrefix(s, "site:"))
		return control.MemberRef{SiteID: n}, err
	case strings.HasPrefix(s, "passkey:"):
		return control.MemberRef{Passkey: strings.TrimPrefix(s, "passkey:")}, nil
	}
	n, err := positive(s)
	if err != nil {
		return control.MemberRef{}, control.Invalidf("member %q is not an id, site:ID or passkey:PASSKEY", control.Clip(s))
	}
	return control.MemberRef{ID: n}, nil
}

// TorrentRef parses {torrent}: an id, site:ID or a 40-hex-digit info_hash.
func TorrentRef(s string) (control.TorrentRef, error) {
	if rest, ok := strings.CutPrefix(s, "site:"); ok {
		n, err := positive(rest)
		return control.TorrentRef{SiteID: n}, err
	}
	if len(s) == 40 {
		b, err := hex.DecodeString(s)
		if err != nil {
			return control.TorrentRef{}, control.Invalidf("torrent %q is not 40 hex digits", control.Clip(s))
		}
		return control.TorrentRef{InfoHash: b}, nil
	}
	n, err := positive(s)
	if err != nil {
		return control.TorrentRef{}, control.Invalidf("torrent %q is not an id, site:ID or a 40-hex-digit info_hash", control.Clip(s))
	}
	return control.TorrentRef{ID: n}, nil
}

func positive(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, control.Invalidf("%q is not a positive integer", control.Clip(s))
	}
	return n, nil
}

func memberParam(r *http.Request) (control.MemberRef, error) {
	return MemberRef(chi.URLParam(r, "member"))
}

func torrentParam(r *http.Request) (control.TorrentRef, error) {
	return TorrentRef(chi.URLParam(r, "torrent"))
}

func idParam(r *http.Request) (int64, error) { return positive(chi.URLParam(r, "id")) }

// MemberBody is the body of POST /members.
type MemberBody struct {
	SiteID   int64   `json:"site_id"`
	Name     string  `json:"name,omitempty"`
	Passkey  string  `json:"passkey,omitempty"` // "": a new random one
	Class    *string `json:"class,omitempty"`
	CanLeech *bool   `json:"can_leech,omitempty"`
}

func (h *Handler) putMember(w http.ResponseWriter, r *http.Request) error {
	var b MemberBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if b.Passkey == "" {
		pk, err := admin.NewPasskey()
		if err != nil {
			return err
		}
		b.Passkey = pk
	}
	m, created, err := h.svc.PutMember(r.Context(), actor(r), control.MemberInput{SiteID: b.SiteID, Name: b.Name,
		Passkey: b.Passkey, Class: b.Class, CanLeech: b.CanLeech})
	if err != nil {
		return err
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	return writeJSON(w, code, m)
}

// DefaultPage is a list's page size when the request gives no limit.
const DefaultPage = 100

// listQuery is a list request's query: the filters it names (each
// allowed once, no other parameter) and its page (after, limit).
type listQuery struct {
	v     url.Values
	after int64
	limit int
}

// parseList checks r's query against the filters a list has.
func parseList(r *http.Request, filters ...string) (*listQuery, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, control.Invalidf("query: %v", err)
	}
	q := &listQuery{v: v, limit: DefaultPage}
	for k, vals := range v {
		if k != "after" && k != "limit" && !slices.Contains(filters, k) {
			return nil, control.Invalidf("unknown query parameter %q (filters: %s; pages: after, limit)", control.Clip(k), strings.Join(filters, ", "))
		}
		if len(vals) != 1 {
			return nil, control.Invalidf("query parameter %s given %d times", k, len(vals))
		}
	}
	if s := v.Get("after"); s != "" {
		if q.after, err = strconv.ParseInt(s, 10, 64); err != nil || q.after < 0 {
			return nil, control.Invalidf("after %q is not an id (0 or more)", control.Clip(s))
		}
	}
	if s := v.Get("limit"); s != "" {
		if q.limit, err = strconv.Atoi(s); err != nil || q.limit < 1 || q.limit > control.MaxPage {
			return nil, control.Invalidf("limit %q is not within 1..%d", control.Clip(s), control.MaxPage)
		}
	}
	return q, nil
}

// boolFilter is filter name's value: nil when absent.
func (q *listQuery) boolFilter(name string) (*bool, error) {
	s, ok := q.v[name]
	if !ok {
		return nil, nil
	}
	b, err := strconv.ParseBool(s[0])
	if err != nil {
		return nil, control.Invalidf("%s %q is not true or false", name, control.Clip(s[0]))
	}
	return &b, nil
}

// stringFilter is filter name's value: nil when absent; an empty value is refused.
func (q *listQuery) stringFilter(name string) (*string, error) {
	s, ok := q.v[name]
	if !ok {
		return nil, nil
	}
	if s[0] == "" {
		return nil, control.Invalidf("%s is empty", name)
	}
	return &s[0], nil
}

// Page is a list's answer: Next, when set, is the after of the next page.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  *int64 `json:"next_after,omitempty"`
}

func page[T any](items []T, more bool, id func(T) int64) Page[T] {
	p := Page[T]{Items: items}
	if p.Items == nil {
		p.Items = []T{}
	}
	if more && len(items) > 0 {
		n := id(items[len(items)-1])
		p.Next = &n
	}
	return p
}

func (h *Handler) listMembers(w http.ResponseWriter, r *http.Request) error {
	q, err := parseList(r, "class", "enabled", "removed")
	if err != nil {
		return err
	}
	f := control.MemberFilter{After: q.after, Limit: q.limit}
	if f.Class, err = q.stringFilter("class"); err != nil {
		return err
	}
	if f.Enabled, err = q.boolFilter("enabled"); err != nil {
		return err
	}
	if f.Removed, err = q.boolFilter("removed"); err != nil {
		return err
	}
	ms, more, err := h.svc.Members(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page(ms, more, func(m control.Member) int64 { return m.ID }))
}

func (h *Handler) getMember(w http.ResponseWriter, r *http.Request) error {
	ref, err := memberParam(r)
	if err != nil {
		return err
	}
	m, err := h.svc.Member(r.Context(), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (h *Handler) patchMember(w http.ResponseWriter, r *http.Request) error {
	ref, err := memberParam(r)
	if err != nil {
		return err
	}
	var p control.MemberPatch
	if err := decode(r, &p); err != nil {
		return err
	}
	if p.Passkey != nil {
		return control.Invalidf("change a passkey with POST .../passkey")
	}
	m, err := h.svc.UpdateMember(r.Context(), actor(r), ref, p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (h *Handler) deleteMember(w http.ResponseWriter, r *http.Request) error {
	ref, err := memberParam(r)
	if err != nil {
		return err
	}
	if err := h.svc.RemoveMember(r.Context(), actor(r), ref); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) newPasskey(w http.ResponseWriter, r *http.Request) error {
	ref, err := memberParam(r)
	if err != nil {
		return err
	}
	var b struct {
		Passkey string `json:"passkey"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &b); err != nil {
			return err
		}
	}
	if b.Passkey == "" {
		if b.Passkey, err = admin.NewPasskey(); err != nil {
			return err
		}
	}
	m, err := h.svc.UpdateMember(r.Context(), actor(r), ref, control.MemberPatch{Passkey: &b.Passkey})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (h *Handler) putPersonal(w http.ResponseWriter, r *http.Request) error {
	ref, err := memberParam(r)
	if err != nil {
		return err
	}
	var b struct {
		Until *time.Time `json:"until"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &b); err != nil {
			return err
		}
	}
	if err := h.svc.SetPersonalFreeleech(r.Context(), actor(r), ref, b.Until); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) deletePersonal(w http.ResponseWriter, r *http.Request) error {
	ref, err := memberParam(r)
	if err != nil {
		return err
	}
	if err := h.svc.RemovePersonalFreeleech(r.Context(), actor(r), ref); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) putReportSecret(w http.ResponseWriter, r *http.Request) error {
	ref, err := memberParam(r)
	if err != nil {
		return err
	}
	var b control.ReportSecret
	if err := decode(r, &b); err != nil {
		return err
	}
	if err := h.svc.SetReportSecret(r.Context(), actor(r), ref, b); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) deleteReportSecrets(w http.ResponseWriter, r *http.Request) error {
	ref, err := memberParam(r)
	if err != nil {
		return err
	}
	if err := h.svc.RemoveReportSecrets(r.Context(), actor(r), ref); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) addSeedbox(w http.ResponseWriter, r *http.Request) error {
	ref, err := memberParam(r)
	if err != nil {
		return err
	}
	var b struct {
		CIDR         string `json:"cidr"`
		CountsForCap bool   `json:"counts_for_ip_cap"`
		Note         string `json:"note"`
	}
	if err := decode(r, &b); err != nil {
		return err
	}
	id, err := h.svc.AddSeedbox(r.Context(), actor(r), ref, b.CIDR, b.CountsForCap, b.Note)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]int64{"id": id})
}

func (h *Handler) deleteSeedbox(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteSeedbox(r.Context(), actor(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// TorrentBody is the body of POST /torrents.
type TorrentBody struct {
	SiteID     int64              `json:"site_id"`
	InfoHash   string             `json:"info_hash"`
	Name       string             `json:"name"`
	Size       int64              `json:"size"`
	Promotion  *control.Promotion `json:"promotion,omitempty"`
	Moderation string             `json:"moderation,omitempty"`
}

func (h *Handler) putTorrent(w http.ResponseWriter, r *http.Request) error {
	var b TorrentBody
	if err := decode(r, &b); err != nil {
		return err
	}
	ih, err := hex.DecodeString(b.InfoHash)
	if err != nil || len(ih) != 20 {
		return control.Invalidf("info_hash %q is not 40 hex digits", control.Clip(b.InfoHash))
	}
	if b.Size < 0 {
		return control.Invalidf("size %d is negative", b.Size)
	}
	t, created, err := h.svc.PutTorrent(r.Context(), actor(r), control.TorrentInput{SiteID: b.SiteID, InfoHash: ih,
		Name: b.Name, Size: b.Size, Promotion: b.Promotion, Moderation: b.Moderation})
	if err != nil {
		return err
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	return writeJSON(w, code, t)
}

func (h *Handler) listTorrents(w http.ResponseWriter, r *http.Request) error {
	q, err := parseList(r, "deleted")
	if err != nil {
		return err
	}
	f := control.TorrentFilter{After: q.after, Limit: q.limit}
	if f.Deleted, err = q.boolFilter("deleted"); err != nil {
		return err
	}
	ts, more, err := h.svc.Torrents(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page(ts, more, func(t control.Torrent) int64 { return t.ID }))
}

func (h *Handler) getTorrent(w http.ResponseWriter, r *http.Request) error {
	ref, err := torrentParam(r)
	if err != nil {
		return err
	}
	t, err := h.svc.Torrent(r.Context(), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (h *Handler) deleteTorrent(w http.ResponseWriter, r *http.Request) error {
	ref, err := torrentParam(r)
	if err != nil {
		return err
	}
	reason := r.URL.Query().Get("reason")
	if len(reason) > 200 {
		return control.Invalidf("reason is %d bytes, at most 200", len(reason))
	}
	if err := h.svc.DeleteTorrent(r.Context(), actor(r), ref, reason); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) putPromotion(w http.ResponseWriter, r *http.Request) error {
	ref, err := torrentParam(r)
	if err != nil {
		return err
	}
	var p control.Promotion
	if err := decode(r, &p); err != nil {
		return err
	}
	if err := h.svc.SetPromotion(r.Context(), actor(r), []control.TorrentRef{ref}, p); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) featured(w http.ResponseWriter, r *http.Request, on bool) error {
	ref, err := torrentParam(r)
	if err != nil {
		return err
	}
	if err := h.svc.SetFeatured(r.Context(), actor(r), ref, on); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) putFeatured(w http.ResponseWriter, r *http.Request) error {
	return h.featured(w, r, true)
}
func (h *Handler) deleteFeatured(w http.ResponseWriter, r *http.Request) error {
	return h.featured(w, r, false)
}

func (h *Handler) token(w http.ResponseWriter, r *http.Request, on bool) error {
	tref, err := torrentParam(r)
	if err != nil {
		return err
	}
	mref, err := memberParam(r)
	if err != nil {
		return err
	}
	if on {
		var b struct {
			ExpiresOnCompletion bool `json:"expires_on_completion"`
		}
		if r.ContentLength != 0 {
			if err := decode(r, &b); err != nil {
				return err
			}
		}
		err = h.svc.AddToken(r.Context(), actor(r), mref, tref, b.ExpiresOnCompletion)
	} else {
		err = h.svc.RemoveToken(r.Context(), actor(r), mref, tref)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) putToken(w http.ResponseWriter, r *http.Request) error { return h.token(w, r, true) }
func (h *Handler) deleteToken(w http.ResponseWriter, r *http.Request) error {
	return h.token(w, r, false)
}

func (h *Handler) listSitePromotions(w http.ResponseWriter, r *http.Request) error {
	ps, err := h.svc.SitePromotions(r.Context())
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []control.SitePromotion{}
	}
	return writeJSON(w, http.StatusOK, ps)
}

func (h *Handler) addSitePromotion(w http.ResponseWriter, r *http.Request) error {
	var p control.SitePromotion
	if err := decode(r, &p); err != nil {
		return err
	}
	if p.ID != 0 {
		return control.Invalidf("id is assigned by the tracker")
	}
	id, err := h.svc.AddSitePromotion(r.Context(), actor(r), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]int64{"id": id})
}

func (h *Handler) deleteSitePromotion(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteSitePromotion(r.Context(), actor(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) putClass(w http.ResponseWriter, r *http.Request) error {
	var c control.Class
	if err := decode(r, &c); err != nil {
		return err
	}
	name := chi.URLParam(r, "class")
	if c.Name != "" && c.Name != name {
		return control.Invalidf("body names class %q, the URL %q", control.Clip(c.Name), control.Clip(name))
	}
	c.Name = name
	if err := h.svc.PutClass(r.Context(), actor(r), c); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) deleteClass(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeleteClass(r.Context(), actor(r), chi.URLParam(r, "class")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listClientRules(w http.ResponseWriter, r *http.Request) error {
	rs, err := h.svc.ClientRules(r.Context())
	if err != nil {
		return err
	}
	if rs == nil {
		rs = []control.ClientRule{}
	}
	return writeJSON(w, http.StatusOK, rs)
}

func (h *Handler) addClientRule(w http.ResponseWriter, r *http.Request) error {
	var c control.ClientRule
	if err := decode(r, &c); err != nil {
		return err
	}
	if c.ID != 0 {
		return control.Invalidf("id is assigned by the tracker")
	}
	id, err := h.svc.AddClientRule(r.Context(), actor(r), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]int64{"id": id})
}

func (h *Handler) deleteClientRule(w http.ResponseWriter, r *http.Request) error {
	id, err := idParam(r)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteClientRule(r.Context(), actor(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// AdjustmentBody is the body of POST /ledger/adjustments. The key may also
// come in the Idempotency-Key header.
type AdjustmentBody struct {
	Member             string  `json:"member"`
	Torrent            string  `json:"torrent,omitempty"`
	CreditedUploaded   int64   `json:"credited_uploaded"`
	CreditedDownloaded int64   `json:"credited_downloaded"`
	BonusPoints        float64 `json:"bonus_points"`
	Reason             string  `json:"reason"`
	Key                string  `json:"idempotency_key,omitempty"`
}

func (h *Handler) adjust(w http.ResponseWriter, r *http.Request) error {
	var b AdjustmentBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if hk := r.Header.Get("Idempotency-Key"); hk != "" {
		if b.Key != "" && b.Key != hk {
			return control.Invalidf("Idempotency-Key header and idempotency_key differ")
		}
		b.Key = hk
	}
	mref, err := MemberRef(b.Member)
	if err != nil {
		return err
	}
	a := control.Adjustment{Member: mref, CreditedUploaded: b.CreditedUploaded, CreditedDownloaded: b.CreditedDownloaded,
		BonusPoints: b.BonusPoints, Reason: b.Reason, Key: b.Key}
	if b.Torrent != "" {
		tref, err := TorrentRef(b.Torrent)
		if err != nil {
			return err
		}
		a.Torrent = &tref
	}
	id, applied, err := h.svc.Adjust(r.Context(), actor(r), a)
	if err != nil {
		return err
	}
	code := http.StatusOK
	if applied {
		code = http.StatusCreated
	}
	return writeJSON(w, code, map[string]any{"id": id, "applied": applied})
}
