package reports

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ratioguard/ratioguard/detectors"
	"github.com/ratioguard/ratioguard/tracker/control"
)

//go:embed templates/*.html
var templateFS embed.FS

const (
	sessionCookie = "rg_session"
	sessionTTL    = 12 * time.Hour
	maxBody       = 64 << 10
)

// Server is the staff web UI and JSON API.
type Server struct {
	store  *Store
	log    *slog.Logger
	pages  map[string]*template.Template
	limit  *loginLimiter // failed sign-ins per client address
	perAcc *loginLimiter // failed sign-ins per account name, from any address
	secure bool          // mark cookies Secure (behind TLS)
	trust  []netip.Prefix
	// activity reads members' and torrents' history from ClickHouse; nil
	// when it is not configured (the pages then say so).
	activity *Activity
	// control changes client rules, seedbox ranges and site promotions the
	// way the site's control protocols do (tracker/control).
	control *control.Service
	// detectorFile is detect's config under the thresholds admins store.
	detectorFile *detectors.Config

	countsMu sync.Mutex // the header's and the queue's report counts, recounted every countsTTL
	counts   map[string]int64
	countsAt time.Time
	queue    map[string]queueCountsAt // per status
}

// Options configure a Server.
type Options struct {
	SecureCookies bool // set when the UI is served over HTTPS
	// TrustedProxies: connections from these ranges may name the client's
	// address in X-Real-IP or X-Forwarded-For (the sign-in limit counts
	// failures per client, not per proxy).
	TrustedProxies []netip.Prefix
	// Activity reads IP, client and daily history from ClickHouse for the
	// member, torrent and search pages; nil leaves those sections out.
	Activity *Activity
	// DetectorConfig is detect's config before the console's overrides
	// (defaults ← its config file), shown and validated against on the
	// detector thresholds page; nil: the defaults.
	DetectorConfig *detectors.Config
}

// Sign-in limits: failures per client address, and per account from any
// number of addresses (a guesser spread over many addresses still gets few
// tries at one account).
const (
	maxFailsPerAddr    = 5
	failWindowPerAddr  = 5 * time.Minute
	maxFailsPerAccount = 10
	failWindowAccount  = 15 * time.Minute
)

// NewServer builds the UI over a Store.
func NewServer(store *Store, log *slog.Logger, opts Options) (*Server, error) {
	funcs := template.FuncMap{
		"chart": chartSVG,
		"list":  func(v ...string) []string { return v },
		"deref": func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		},
		"bytes":     humanBytes,
		"ratio":     humanRatio,
		"pct":       func(f float64) float64 { return 100 * f },
		"seedDays":  func(sec int64) float64 { return float64(sec) / 86400 },
		"seedHours": func(sec int64) float64 { return float64(sec) / 3600 },
		"passkey":   redactPasskey,
		"human": func(v any, unit string) string {
			switch n := v.(type) {
			case float64:
				return humanNumber(n, unit)
			case uint64:
				return humanNumber(float64(n), unit)
			}
			return "?"
		},
	}
	pages := map[string]*template.Template{}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	file := opts.DetectorConfig
	if file == nil {
		file = detectors.DefaultConfig()
	}
	return &Server{store: store, log: log, pages: pages, secure: opts.SecureCookies, trust: opts.TrustedProxies, activity: opts.Activity,
		detectorFile: file,
		control:      control.New(store.pool, nil, log),
		limit:        newLoginLimiter(maxFailsPerAddr, failWindowPerAddr),
		perAcc:       newLoginLimiter(maxFailsPerAccount, failWindowAccount)}, nil
}

// Handler returns the routes.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(s.recoverer, securityHeaders, limitBody)
	r.NotFound(s.withOptionalStaff(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "there is no page at "+r.URL.Path, nil)
	}))
	r.MethodNotAllowed(s.withOptionalStaff(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path, nil)
	}))
	for _, rt := range s.routes() {
		h := http.Handler(rt.h)
		if rt.role != RolePublic {
			h = s.requireStaff(s.requireRole(rt.role, h))
		}
		r.Method(rt.method, rt.pattern, h)
	}
	return r
}

// Roles a route may require. A moderator reviews and acts on reports; an
// admin may do that too, and also changes settings and staff accounts.
const (
	RolePublic    = ""
	RoleModerator = "moderator"
	RoleAdmin     = "admin"
)

// route is one endpoint with the least role that may use it.
type route struct {
	method, pattern, role string
	h                     http.HandlerFunc
}

// routes is every endpoint of the UI and API, each with its role: Handler
// mounts exactly these, and a test walks the router against them.
func (s *Server) routes() []route {
	return append(append(s.baseRoutes(), s.settingRoutes()...), s.thresholdRoutes()...)
}

func (s *Server) baseRoutes() []route {
	return []route{
		{"GET", "/healthz", RolePublic, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }},
		{"GET", "/login", RolePublic, s.loginPage},
		{"POST", "/login", RolePublic, s.loginForm},
		{"POST", "/api/login", RolePublic, s.loginAPI},

		{"POST", "/logout", RoleModerator, s.logout},
		{"GET", "/", RoleModerator, s.listPage},
		{"GET", "/reports/{id}", RoleModerator, s.detailPage},
		{"POST", "/reports/{id}/review", RoleModerator, s.reviewForm},
		{"GET", "/api/openapi.json", RoleModerator, s.openAPIDoc},
		{"GET", "/api/reports", RoleModerator, s.listAPI},
		{"GET", "/api/reports/counts", RoleModerator, s.queueCountsAPI},
		{"POST", "/api/reports/bulk-dismiss", RoleModerator, s.bulkDismissAPI},
		{"POST", "/reports/bulk-dismiss", RoleModerator, s.bulkDismissForm},
		{"POST", "/reports/{id}/amend", RoleModerator, s.amendForm},
		{"POST", "/reports/{id}/claim", RoleModerator, s.assignForm(true)},
		{"POST", "/reports/{id}/assign", RoleModerator, s.assignForm(false)},
		{"POST", "/api/reports/{id}/claim", RoleModerator, s.assignAPI(true)},
		{"POST", "/api/reports/{id}/assign", RoleModerator, s.assignAPI(false)},
		{"POST", "/reports/{id}/reopen", RoleModerator, s.reopenForm},
		{"GET", "/api/reports/{id}", RoleModerator, jsonByID(s, "report", s.store.Get)},
		{"POST", "/api/reports/{id}/review", RoleModerator, s.reviewAPI},
		{"POST", "/api/reports/{id}/plan", RoleModerator, s.planAPI},
		{"POST", "/api/reports/{id}/amend", RoleModerator, s.amendAPI},
		{"POST", "/api/reports/{id}/reopen", RoleModerator, s.reopenAPI},

		{"GET", "/members/{id}", RoleModerator, s.memberPage},
		{"POST", "/members/{id}/notes", RoleModerator, s.noteForm},
		{"GET", "/api/members/{id}", RoleModerator, jsonByID(s, "member", s.memberWithActivity)},
		{"POST", "/api/members/{id}/notes", RoleModerator, s.noteAPI},
		{"GET", "/torrents/{id}", RoleModerator, s.torrentPage},
		{"GET", "/api/torrents/{id}", RoleModerator, jsonByID(s, "torrent", s.torrentWithActivity)},
		{"GET", "/search", RoleModerator, s.searchPage},
		{"GET", "/api/search", RoleModerator, s.searchAPI},
		{"GET", "/watch", RoleModerator, s.watchPage},
		{"GET", "/api/watch", RoleModerator, s.watchAPI},
		{"GET", "/dead", RoleModerator, s.deadPage},
		{"GET", "/api/dead", RoleModerator, s.deadAPI},
		{"GET", "/audit", RoleModerator, s.auditPage},
		{"GET", "/api/audit", RoleModerator, s.auditAPI},

		{"POST", "/admin/reports/{id}/second", RoleAdmin, s.secondForm},
		{"POST", "/api/admin/reports/{id}/second", RoleAdmin, s.secondAPI},
		{"GET", "/admin", RoleAdmin, s.adminIndex},
		{"GET", "/admin/staff", RoleAdmin, s.staffPage},
		{"POST", "/admin/staff/{id}/disable", RoleAdmin, s.setDisabledForm(true)},
		{"POST", "/admin/staff/{id}/enable", RoleAdmin, s.setDisabledForm(false)},
		{"POST", "/admin/staff/{id}/password", RoleAdmin, s.staffAction(true, false)},
		{"POST", "/admin/staff/{id}/revoke", RoleAdmin, s.staffAction(false, false)},
		{"GET", "/admin/tokens", RoleAdmin, s.tokensPage},
		{"POST", "/admin/tokens", RoleAdmin, s.tokenCreateForm},
		{"POST", "/admin/tokens/{id}/revoke", RoleAdmin, s.tokenRevoke(false)},
		{"GET", "/api/admin/staff", RoleAdmin, s.staffAPI},
		{"POST", "/api/admin/staff/{id}/password", RoleAdmin, s.staffAction(true, true)},
		{"POST", "/api/admin/staff/{id}/revoke", RoleAdmin, s.staffAction(false, true)},
		{"GET", "/api/admin/tokens", RoleAdmin, s.tokensAPI},
		{"POST", "/api/admin/tokens", RoleAdmin, s.tokenCreateAPI},
		{"POST", "/api/admin/tokens/{id}/revoke", RoleAdmin, s.tokenRevoke(true)},
		{"POST", "/api/admin/staff/{id}/disable", RoleAdmin, s.setDisabledAPI(true)},
		{"POST", "/api/admin/staff/{id}/enable", RoleAdmin, s.setDisabledAPI(false)},
	}
}

// hasRole tells whether a staff member's role covers the one required.
func hasRole(st Staff, role string) bool {
	switch role {
	case RolePublic:
		return true
	case RoleModerator:
		return st.Role == RoleModerator || st.Role == RoleAdmin
	case RoleAdmin:
		return st.Role == RoleAdmin
	}
	return false
}

// requireRole refuses (403) signed-in staff whose role does not cover role.
func (s *Server) requireRole(role string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hasRole(staffOf(r), role) {
			s.fail(w, r, http.StatusForbidden, "this needs the "+role+" role; you are a "+staffOf(r).Role, nil)
			return
		}
		if scopes, isToken := r.Context().Value(scopesKey).([]string); isToken && !scopeAllows(scopes, r.Method, role) {
			s.fail(w, r, http.StatusForbidden, "this API token's scopes ("+strings.Join(scopes, ", ")+") do not cover "+r.Method+" "+r.URL.Path, nil)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type ctxKey int

const (
	staffKey ctxKey = iota
	tokenKey
	bearerKey
	scopesKey // an API token's scopes (absent for sessions)
)

// sessionToken is the request's session token, from a bearer header or the cookie.
func sessionToken(r *http.Request) (token string, bearer bool) {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimSpace(strings.TrimPrefix(h, "Bearer ")), true
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		return c.Value, false
	}
	return "", false
}

// withOptionalStaff puts the signed-in staff member, if any, in the request's
// context: pages outside requireStaff (not found, errors) then show who is
// signed in instead of a sign-in form.
func (s *Server) withOptionalStaff(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if token, bearer := sessionToken(r); token != "" {
			if st, ok, err := s.store.SessionStaff(r.Context(), token); err == nil && ok {
				ctx := context.WithValue(r.Context(), staffKey, st)
				ctx = context.WithValue(ctx, tokenKey, token)
				r = r.WithContext(context.WithValue(ctx, bearerKey, bearer))
			}
		}
		h(w, r)
	}
}

// requireStaff resolves the session from the cookie or a bearer token.
func (s *Server) requireStaff(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, bearer := sessionToken(r)
		var st Staff
		var ok bool
		var err error
		if bearer && strings.HasPrefix(token, tokenPrefix) {
			// A long-lived API token: the staff account it acts for, within its scopes.
			var scopes []string
			st, scopes, ok, err = s.store.TokenStaff(r.Context(), token)
			r = r.WithContext(context.WithValue(r.Context(), scopesKey, scopes))
		} else {
			st, ok, err = s.store.SessionStaff(r.Context(), token)
		}
		if err != nil {
			s.fail(w, r, http.StatusServiceUnavailable, "the database is not answering; try again shortly", err)
			return
		}
		if !ok {
			if isAPI(r) {
				writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "sign in first: POST /api/login"})
				return
			}
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.signInToResume(w, r)
			return
		}
		// Cookie-authenticated writes must carry the session's CSRF token.
		if r.Method == http.MethodPost && !bearer {
			got := r.Header.Get("X-CSRF-Token")
			if got == "" {
				if !s.parseForm(w, r) {
					return
				}
				got = r.PostFormValue("csrf")
			}
			if !validCSRF(token, got) {
				s.fail(w, r, http.StatusForbidden, "the form expired or came from another site; reload the page and try again", nil)
				return
			}
		}
		ctx := context.WithValue(r.Context(), staffKey, st)
		ctx = context.WithValue(ctx, tokenKey, token)
		ctx = context.WithValue(ctx, bearerKey, bearer)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func staffOf(r *http.Request) Staff  { st, _ := r.Context().Value(staffKey).(Staff); return st }
func tokenOf(r *http.Request) string { t, _ := r.Context().Value(tokenKey).(string); return t }
func isAPI(r *http.Request) bool     { return strings.HasPrefix(r.URL.Path, "/api/") }

// clientIP is the connection's address, or the one a trusted proxy names
// (X-Real-IP, else the rightmost X-Forwarded-For address not a trusted proxy's).
func (s *Server) clientIP(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		h, _, _ := net.SplitHostPort(r.RemoteAddr)
		return h
	}
	addr := ap.Addr().Unmap()
	if !s.trusted(addr) {
		return addr.String()
	}
	if v := r.Header.Get("X-Real-IP"); v != "" {
		if a, err := netip.ParseAddr(strings.TrimSpace(v)); err == nil {
			return a.Unmap().String()
		}
	}
	parts := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(parts) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(parts[i]))
		if err != nil {
			break
		}
		if a = a.Unmap(); !s.trusted(a) {
			return a.String()
		}
	}
	return addr.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.trust {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// signInError is a refused sign-in: the status and the message to show.
type signInError struct {
	status int
	msg    string
}

func (s *Server) signIn(r *http.Request, name, password string) (Staff, string, *signInError) {
	ip := s.clientIP(r)
	account := strings.ToLower(name)
	if len(account) > 64 {
		account = account[:64]
	}
	if !s.limit.allow(ip) {
		return Staff{}, "", &signInError{http.StatusTooManyRequests, "too many failed sign-ins from your address; wait a few minutes"}
	}
	if !s.perAcc.allow(account) {
		return Staff{}, "", &signInError{http.StatusTooManyRequests, "too many failed sign-ins for this account; wait a few minutes"}
	}
	st, err := s.store.Authenticate(r.Context(), name, password)
	if errors.Is(err, ErrBadCredentials) {
		s.limit.failure(ip)
		s.perAcc.failure(account)
		s.log.Warn("failed staff sign-in", "name", account, "ip", ip)
		return Staff{}, "", &signInError{http.StatusUnauthorized, err.Error()}
	}
	if err != nil {
		s.log.Error("sign-in", "err", err)
		return Staff{}, "", &signInError{http.StatusServiceUnavailable, "the database is not answering; try again shortly"}
	}
	token, err := s.store.NewSession(r.Context(), st, sessionTTL)
	if err != nil {
		s.log.Error("start session", "err", err)
		return Staff{}, "", &signInError{http.StatusServiceUnavailable, "could not start a session; try again shortly"}
	}
	s.log.Info("staff signed in", "staff", st.Name, "ip", ip)
	return st, token, nil
}

func (s *Server) loginAPI(w http.ResponseWriter, r *http.Request) {
	var in struct{ Name, Password string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		if !tooLarge(w, r, s, err) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be JSON {\"name\": ..., \"password\": ...}"})
		}
		return
	}
	_, token, fail := s.signIn(r, in.Name, in.Password)
	if fail != nil {
		writeJSON(w, fail.status, map[string]string{"error": fail.msg})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": token, "expires_in": int(sessionTTL.Seconds())})
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", map[string]any{"Title": "Sign in", "Next": r.URL.Query().Get("next")})
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	kept := r.PostFormValue("kept")
	st, token, fail := s.signIn(r, r.PostFormValue("name"), r.PostFormValue("password"))
	if fail != nil {
		s.render(w, r, fail.status, "login", map[string]any{"Title": "Sign in", "Error": fail.msg,
			"Next": r.PostFormValue("next"), "Name": r.PostFormValue("name"), "Kept": kept})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL.Seconds())})
	next := safeNext(r.PostFormValue("next"))
	if m := reportPathRe.FindStringSubmatch(next); m != nil && kept != "" {
		// A review typed before the session expired: shown again, filled in,
		// for the reviewer to send with the new session. Nothing is saved yet.
		if vals, err := url.ParseQuery(kept); err == nil {
			id, _ := strconv.ParseInt(m[1], 10, 64)
			ctx := context.WithValue(r.Context(), staffKey, st)
			ctx = context.WithValue(ctx, tokenKey, token)
			s.renderDetail(w, r.WithContext(ctx), id, http.StatusOK,
				"Your session had expired. Your review is kept below and nothing was saved: check it and send it again.", formFrom(vals))
			return
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

var (
	reportPathRe = regexp.MustCompile(`^/reports/([0-9]{1,18})$`)
	reviewPathRe = regexp.MustCompile(`^/reports/([0-9]{1,18})/review$`)
)

// signInToResume answers a form sent with an expired or missing session: the
// sign-in page, keeping what the form carried (never the old CSRF token), so
// that signing in shows the form again filled in. A redirect would lose the
// body and land on the form's POST-only address.
func (s *Server) signInToResume(w http.ResponseWriter, r *http.Request) {
	data := map[string]any{"Title": "Sign in", "Next": "/",
		"Error": "Your session has expired; sign in again."}
	if m := reviewPathRe.FindStringSubmatch(r.URL.Path); m != nil {
		data["Next"] = "/reports/" + m[1]
		if r.ParseForm() == nil {
			kept := url.Values{}
			for _, k := range []string{"verdict", "reverse_uploaded", "reverse_downloaded", "note"} {
				if v, ok := r.PostForm[k]; ok {
					kept[k] = v
				}
			}
			data["Kept"] = kept.Encode()
			data["Error"] = "Your session has expired; sign in again to finish the review of report #" + m[1] +
				" (what you typed is kept and shown again before anything is saved)."
		}
	}
	s.render(w, r, http.StatusUnauthorized, "login", data)
}

// reviewFormView is what the review form shows filled in.
type reviewFormView struct {
	Verdict           map[string]bool
	ReverseUploaded   string
	ReverseDownloaded string
	Note              string
	Reason            string // of an amendment
}

func formFrom(v url.Values) reviewFormView {
	f := reviewFormView{Verdict: map[string]bool{}, ReverseUploaded: v.Get("reverse_uploaded"),
		ReverseDownloaded: v.Get("reverse_downloaded"), Note: v.Get("note"), Reason: v.Get("reason")}
	for _, x := range v["verdict"] {
		f.Verdict[x] = true
	}
	return f
}

// safeNext is next when it is a path on this site, else "/". Browsers read
// a backslash as a slash and drop tabs and newlines, so "/\host" and
// "/\t/host" lead off-site as "//host" does: none of them may pass.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || len(next) > 2048 {
		return "/"
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || strings.HasPrefix(next, "//") || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.store.EndSession(r.Context(), tokenOf(r)); err != nil {
		s.log.Warn("end session", "err", err)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func parseFilter(q url.Values) (Filter, error) {
	f := Filter{Status: q.Get("status"), Detector: q.Get("detector"), Severity: q.Get("severity"), UserID: q.Get("user"),
		Assignee: strings.TrimSpace(q.Get("assignee"))}
	if _, ok := q["status"]; !ok {
		f.Status = "open"
	}
	if f.Status != "" && !contains([]string{"open", "confirmed", "dismissed"}, f.Status) {
		return f, InputError{"status must be open, confirmed or dismissed"}
	}
	if f.UserID != "" {
		if n, err := strconv.ParseInt(f.UserID, 10, 64); err != nil || n <= 0 {
			return f, InputError{"user must be a member id"}
		}
	}
	for name, dst := range map[string]*int64{"before": &f.BeforeID} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return f, InputError{name + " must be a report id"}
			}
			*dst = n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return f, InputError{"limit must be between 1 and 500"}
		}
		f.Limit = n
	}
	f.Sort = q.Get("sort")
	if !contains(Sorts, f.Sort) {
		return f, InputError{"sort must be one of newest (empty), score, severity, oldest"}
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1000000 {
			return f, InputError{"offset must be a number of reports from 0 to 1,000,000"}
		}
		if f.Sort == "" {
			return f, InputError{"offset goes with a sort; the newest-first queue pages with before"}
		}
		f.Offset = n
	}
	return f, nil
}

// nextPage is the page after list at path: keyset (before the last id) for
// the newest-first queue, the next offset for the other orders.
func nextPage(path string, f Filter, list []Report) string {
	if f.Sort == "" {
		return pageURL(path, f, list[len(list)-1].ID, 0)
	}
	return pageURL(path, f, 0, f.Offset+len(list))
}

func (s *Server) listAPI(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r.URL.Query())
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error(), nil)
		return
	}
	list, more, err := s.store.Page(r.Context(), f)
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	if list == nil {
		list = []Report{}
	}
	out := map[string]any{"reports": list}
	if more {
		if f.Sort == "" {
			out["next_before"] = list[len(list)-1].ID
		}
		out["next"] = nextPage("/api/reports", f, list)
	}
	writeJSON(w, http.StatusOK, out)
}

// pageURL is the list at path with every filter and the order of f kept,
// from before on (or from offset on, for an order other than newest first).
func pageURL(path string, f Filter, before int64, offset int) string {
	q := url.Values{"status": {f.Status}} // kept even when empty: no status means "open"
	for k, v := range map[string]string{"detector": f.Detector, "severity": f.Severity, "user": f.UserID, "sort": f.Sort, "assignee": f.Assignee} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	}
	return path + "?" + q.Encode()
}

func (s *Server) listPage(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r.URL.Query())
	var list []Report
	var more bool
	if err == nil {
		list, more, err = s.store.Page(r.Context(), f)
	}
	data := s.pageData(r, "Reports")
	data["Filter"], data["Reports"] = f, list
	data["Severities"], data["Statuses"] = []string{"low", "medium", "high", "critical"}, []string{"open", "confirmed", "dismissed"}
	if err == nil {
		var c QueueCounts
		if c, err = s.queueCounts(r.Context(), f.Status); err == nil {
			data["QueueCounts"] = c
		}
	}
	data["Back"] = r.URL.RequestURI()
	data["Dismissed"], data["NotDismissed"] = r.URL.Query().Get("dismissed"), r.URL.Query().Get("not_dismissed")
	if more {
		data["Older"] = nextPage("/", f, list)
	}
	if f.BeforeID > 0 || f.Offset > 0 {
		data["Newest"] = pageURL("/", f, 0, 0)
	}
	data["Sorts"] = Sorts
	status := http.StatusOK
	if err != nil {
		data["Error"], status = publicError(err), statusFor(err)
	}
	s.render(w, r, status, "list", data)
}

// redactPasskey shows a passkey's first 4 characters only: enough to tell
// two apart, not enough to announce with.
func redactPasskey(pk string) string {
	if len(pk) <= 8 || strings.HasPrefix(pk, "user:") {
		return pk
	}
	return pk[:4] + "…"
}

func limitOr(n int) int {
	if n <= 0 || n > 500 {
		return 100
	}
	return n
}

// pathID is the {id} of the route, a positive number; otherwise it answers
// 400 ("<what> id must be a positive number") and false.
func (s *Server) pathID(w http.ResponseWriter, r *http.Request, what string) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, r, http.StatusBadRequest, what+" id must be a positive number", nil)
		return 0, false
	}
	return id, true
}

func (s *Server) detailPage(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "report")
	if !ok {
		return
	}
	s.renderDetail(w, r, id, http.StatusOK, "", reviewFormView{})
}

func (s *Server) renderDetail(w http.ResponseWriter, r *http.Request, id int64, status int, msg string, form reviewFormView) {
	s.renderDetailWith(w, r, id, status, msg, form, nil)
}

// renderDetailPlan is the report page with a review's plan, the form kept.
func (s *Server) renderDetailPlan(w http.ResponseWriter, r *http.Request, id int64, form reviewFormView, plan *ReviewPlan) {
	s.renderDetailWith(w, r, id, http.StatusOK, "", form, plan)
}

func (s *Server) renderDetailWith(w http.ResponseWriter, r *http.Request, id int64, status int, msg string, form reviewFormView, plan *ReviewPlan) {
	d, err := s.store.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	data := s.pageData(r, "Report #"+strconv.FormatInt(id, 10))
	data["Report"], data["Verdicts"], data["Error"], data["Form"] = d, Verdicts, msg, form
	// The amend form starts from the review as it stands.
	amend := reviewFormView{Verdict: map[string]bool{}, ReverseUploaded: d.ReverseUploaded, ReverseDownloaded: d.ReverseDownloaded, Note: d.Note}
	for _, v := range d.Verdict {
		amend.Verdict[v] = true
	}
	if d.Status != "open" && (len(form.Verdict) > 0 || form.Note != "" || form.Reason != "" || form.ReverseUploaded != "" || form.ReverseDownloaded != "") {
		amend = form // a refused amendment comes back as typed
	}
	data["Amend"] = amend
	var ev evidenceView
	if len(d.Evidence) > 0 && json.Unmarshal(d.Evidence, &ev) == nil {
		data["Evidence"] = ev
		if d.Status == "open" && form.Verdict == nil && form.ReverseUploaded == "" {
			// A fresh form: the reversal the evidence suggests, to check.
			if v := prefill(d, &ev); v != "" {
				form.ReverseUploaded = v
				data["Form"], data["Prefilled"] = form, true
			}
		}
	}
	data["Plan"] = plan
	ids := []int64{}
	if n, err := strconv.ParseInt(d.SubjectID, 10, 64); err == nil && d.SubjectKind == "torrent" {
		ids = append(ids, n)
	}
	if ev, ok := data["Evidence"].(evidenceView); ok {
		for _, t := range ev.Torrents {
			ids = append(ids, int64(t.TorrentID))
		}
	}
	names := map[string]string{}
	if byID, err := s.store.TorrentNames(r.Context(), ids); err == nil {
		for id, n := range byID {
			names[strconv.FormatInt(id, 10)] = n
		}
	}
	data["TorrentNames"] = names
	history, _, err := s.store.Audit(r.Context(), AuditFilter{SubjectKind: "cheat_report", SubjectID: strconv.FormatInt(id, 10), Limit: 100})
	if err != nil {
		s.log.Warn("report history", "report", id, "err", err)
	}
	data["History"] = history
	var pretty bytes.Buffer
	if json.Indent(&pretty, d.Evidence, "", "  ") == nil {
		data["RawEvidence"] = pretty.String()
	}
	s.render(w, r, status, "detail", data)
}

func (s *Server) reviewAPI(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "report")
	if !ok {
		return
	}
	var rv Review
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rv); err != nil {
		if !tooLarge(w, r, s, err) {
			s.fail(w, r, http.StatusBadRequest, "body must be JSON {status, verdict[], reverse_uploaded, reverse_downloaded, note}: "+err.Error(), nil)
		}
		return
	}
	s.answerReport(w, r)(s.store.Apply(r.Context(), id, staffOf(r), rv))
}

func (s *Server) reviewForm(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "report")
	if !ok || !s.parseForm(w, r) {
		return
	}
	if r.PostFormValue("preview") != "" {
		// The plan enforce would carry out, with the form as typed; nothing is saved.
		rv := reviewOf(r)
		if rv.Status == "" {
			rv.Status = "confirmed" // the preview button sends no status
		}
		_, plan, err := s.store.Plan(r.Context(), id, staffOf(r), rv)
		if err != nil {
			s.afterForm(w, r, id, err)
			return
		}
		s.renderDetailPlan(w, r, id, formFrom(r.PostForm), &plan)
		return
	}
	// Refused: the report again with the reason and what was typed; nothing changed.
	_, err := s.store.Apply(r.Context(), id, staffOf(r), reviewOf(r))
	s.afterForm(w, r, id, err)
}

func (s *Server) pageData(r *http.Request, title string) map[string]any {
	counts := s.headerCounts(r.Context())
	return map[string]any{"Title": title, "Staff": staffOf(r), "CSRF": csrfToken(tokenOf(r)), "Counts": counts}
}

// countsTTL is how long the header's report counts are reused: counting
// 100,000 reports costs tens of milliseconds, every page shows them, and a
// count a few seconds old misleads nobody.
const countsTTL = 5 * time.Second

// headerCounts are the reports per status for the page header, recounted
// at most every countsTTL (empty when the database does not answer).
func (s *Server) headerCounts(ctx context.Context) map[string]int64 {
	s.countsMu.Lock()
	defer s.countsMu.Unlock()
	if s.counts != nil && time.Since(s.countsAt) < countsTTL {
		return s.counts
	}
	counts, err := s.store.Counts(ctx)
	if err != nil {
		return map[string]int64{}
	}
	s.counts, s.countsAt = counts, time.Now()
	return counts
}

// forgetCounts makes the next page recount the header's and the queue's
// counts (after a review this server made changed them).
func (s *Server) forgetCounts() {
	s.countsMu.Lock()
	s.counts, s.queue = nil, nil
	s.countsMu.Unlock()
}

// queueCountsAt are a status's counts per detector and severity, and when
// they were counted.
type queueCountsAt struct {
	c  QueueCounts
	at time.Time
}

// queueCounts are the reports of status per detector and severity,
// recounted at most every countsTTL (any status means every report).
func (s *Server) queueCounts(ctx context.Context, status string) (QueueCounts, error) {
	s.countsMu.Lock()
	defer s.countsMu.Unlock()
	if q, ok := s.queue[status]; ok && time.Since(q.at) < countsTTL {
		return q.c, nil
	}
	c, err := s.store.QueueCounts(ctx, status)
	if err != nil {
		return c, err
	}
	if s.queue == nil {
		s.queue = map[string]queueCountsAt{}
	}
	s.queue[status] = queueCountsAt{c, time.Now()}
	return c, nil
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data map[string]any) {
	if _, ok := data["Staff"]; !ok {
		data["Staff"] = Staff{}
	}
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, page+".html", data); err != nil {
		s.log.Error("render page", "page", page, "err", err)
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail answers with a message the reader can act on; internal causes are logged only.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, msg string, cause error) {
	if cause != nil && status >= 500 {
		s.log.Error("staff request failed", "path", r.URL.Path, "err", cause)
	}
	if isAPI(r) {
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	data := map[string]any{"Title": http.StatusText(status), "Error": msg, "Staff": staffOf(r)}
	if st := staffOf(r); st.Name != "" {
		data["CSRF"] = csrfToken(tokenOf(r))
	}
	s.render(w, r, status, "error", data)
}

func statusFor(err error) int {
	var in InputError
	switch {
	case errors.As(err, &in), errors.Is(err, control.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, control.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, control.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrStaffNotFound), errors.Is(err, ErrMemberNotFound),
		errors.Is(err, ErrTorrentNotFound), errors.Is(err, ErrRowNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrForbidden), errors.Is(err, ErrOwnProposal):
		return http.StatusForbidden
	case errors.Is(err, ErrAlreadyReviewed), errors.Is(err, ErrNotAmendable), errors.Is(err, ErrNoProposal):
		return http.StatusConflict
	}
	return http.StatusServiceUnavailable
}

func publicError(err error) string {
	if statusFor(err) < 500 {
		return err.Error()
	}
	return "the database is not answering; try again shortly"
}

// decodeJSON reads a JSON body into v, refusing unknown fields; false when it
// has answered (400 naming the expected shape, or 413).
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any, shape string) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if !tooLarge(w, r, s, err) {
			s.fail(w, r, http.StatusBadRequest, "body must be JSON "+shape+": "+err.Error(), nil)
		}
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// limitBody caps every request body at maxBody bytes, whichever way the
// request is authenticated (form token, header token, bearer) and whatever
// reads it (form, JSON).
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		next.ServeHTTP(w, r)
	})
}

// parseForm reads a form body; false when it has answered (too large: 413).
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request) bool {
	err := r.ParseForm()
	if err == nil {
		return true
	}
	if !tooLarge(w, r, s, err) {
		s.fail(w, r, http.StatusBadRequest, "the form could not be read: "+err.Error(), nil)
	}
	return false
}

// tooLarge answers 413 when err is a body over maxBody.
func tooLarge(w http.ResponseWriter, r *http.Request, s *Server, err error) bool {
	var mb *http.MaxBytesError
	if !errors.As(err, &mb) {
		return false
	}
	s.fail(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request is larger than %d KiB", maxBody>>10), nil)
	return true
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		// Pages and answers carry reports, evidence and tokens: no browser
		// or proxy may keep a copy (nor show one with Back after sign-out).
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil && v != http.ErrAbortHandler {
				s.log.Error("panic in staff handler", "path", r.URL.Path, "panic", v)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// loginLimiter counts failed sign-ins per key (a client address, an account).
type loginLimiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	fails  map[string][]time.Time
}

func newLoginLimiter(max int, window time.Duration) *loginLimiter {
	return &loginLimiter{max: max, window: window, fails: map[string][]time.Time{}}
}

func (l *loginLimiter) recent(ip string, now time.Time) []time.Time {
	kept := l.fails[ip][:0]
	for _, t := range l.fails[ip] {
		if now.Sub(t) < l.window {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		delete(l.fails, ip)
		return nil
	}
	l.fails[ip] = kept
	return kept
}

func (l *loginLimiter) allow(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(ip, time.Now())) < l.max
}

func (l *loginLimiter) failure(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if len(l.fails) >= 10000 { // many keys (sprayed names): forget the stale ones
		for k := range l.fails {
			l.recent(k, now)
		}
	}
	l.fails[key] = append(l.recent(key, now), now)
}

// evidenceView is what the detail page reads of a report's evidence
// (detectors.Evidence on the wire); unknown shapes still show as raw JSON.
type evidenceView struct {
	Summary string `json:"summary"`
	Signals []struct {
		Name      string  `json:"name"`
		Value     float64 `json:"value"`
		Threshold float64 `json:"threshold"`
		Unit      string  `json:"unit"`
		Note      string  `json:"note"`
		Fired     bool    `json:"fired"`
		Weight    float64 `json:"weight"`
	} `json:"signals"`
	Torrents []struct {
		TorrentID  uint64             `json:"torrent_id"`
		Size       uint64             `json:"size"`
		Uploaded   uint64             `json:"uploaded"`
		Downloaded uint64             `json:"downloaded"`
		Values     map[string]float64 `json:"values"`
	} `json:"torrents"`
	Series    []Series `json:"series"`
	UserID    uint64   `json:"user_id"`
	Magnitude float64  `json:"magnitude"` // the detector's headline number (faked_upload: suspicious bytes)
}
