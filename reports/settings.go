package reports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ratioguard/ratioguard/tracker/control"
)

var (
	sqlInsertAllow = query("insert_allow")
	sqlDeleteAllow = query("delete_allow")
)

// setting is one kind of site setting admins change from /admin/NAME (and
// /api/admin/NAME): listed, added from named fields, deleted by id. Client
// rules, seedbox ranges and site promotions go through tracker/control (the
// service the site's own control protocols use: audited, learnt by the
// tracker through NOTIFY); the detector allowlist is this package's.
type setting struct {
	name, title string
	fields      []field // what an addition takes
	list        func(ctx context.Context) (any, error)
	add         func(ctx context.Context, actor Staff, in fields) (int64, error)
	del         func(ctx context.Context, actor Staff, id int64) error
}

// field is one input of a setting's addition form.
type field struct {
	Name, Label, Kind, Hint string // Kind: text, number, checkbox, datetime-local
}

// fields are an addition's inputs by name, from a form or a JSON object.
type fields map[string]string

func (f fields) get(name string) string { return strings.TrimSpace(f[name]) }

func (f fields) bool(name string) bool {
	v := strings.ToLower(f.get(name))
	return v == "true" || v == "on" || v == "1" || v == "yes"
}

func (f fields) int(name string, def int) (int, error) {
	v := f.get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, InputError{fmt.Sprintf("%s must be a whole number, not %q", name, v)}
	}
	return n, nil
}

// time reads an RFC 3339 time or the form's datetime-local (UTC).
func (f fields) time(name string) (time.Time, error) {
	v := f.get(name)
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, InputError{fmt.Sprintf("%s must be a time like 2026-12-24T18:00 (UTC), not %q", name, v)}
}

func (s *Server) settings() []setting {
	ctl := s.control
	actor := func(st Staff) string { return "staff:" + st.Name }
	return []setting{
		{name: "clients", title: "Client rules",
			fields: []field{{"peer_id_prefix", "peer_id prefix", "text", "-qB"}, {"min_version", "min version", "text", "4.0.0"},
				{"max_version", "max version", "text", ""}, {"ua_family", "user-agent family", "text", "qbittorrent"},
				{"allowed", "allowed (unchecked: banned)", "checkbox", ""}, {"reason", "reason shown to banned clients", "text", ""}},
			list: func(ctx context.Context) (any, error) { return ctl.ClientRules(ctx) },
			add: func(ctx context.Context, st Staff, in fields) (int64, error) {
				return ctl.AddClientRule(ctx, actor(st), control.ClientRule{Prefix: in.get("peer_id_prefix"), MinVersion: in.get("min_version"),
					MaxVersion: in.get("max_version"), UAFamily: in.get("ua_family"), Allowed: in.bool("allowed"), Reason: in.get("reason")})
			},
			del: func(ctx context.Context, st Staff, id int64) error { return ctl.DeleteClientRule(ctx, actor(st), id) }},
		{name: "seedboxes", title: "Seedbox ranges",
			fields: []field{{"member", "member id", "number", ""}, {"cidr", "range", "text", "203.0.113.0/24"},
				{"counts_for_ip_cap", "counts for the IP cap", "checkbox", ""}, {"note", "note", "text", ""}},
			list: func(ctx context.Context) (any, error) { return s.store.Seedboxes(ctx, nil) },
			add: func(ctx context.Context, st Staff, in fields) (int64, error) {
				uid, err := in.int("member", 0)
				if err != nil || uid <= 0 {
					return 0, InputError{"member must be a member id"}
				}
				return ctl.AddSeedbox(ctx, actor(st), control.MemberRef{ID: int64(uid)}, in.get("cidr"), in.bool("counts_for_ip_cap"), in.get("note"))
			},
			del: func(ctx context.Context, st Staff, id int64) error { return ctl.DeleteSeedbox(ctx, actor(st), id) }},
		{name: "promotions", title: "Site promotions",
			fields: []field{{"name", "name", "text", "Freeleech weekend"}, {"download_percent", "download counted (%)", "number", "0"},
				{"upload_percent", "upload credited (%)", "number", "100"}, {"starts_at", "starts (UTC)", "datetime-local", ""},
				{"ends_at", "ends (UTC)", "datetime-local", ""}},
			list: func(ctx context.Context) (any, error) { return ctl.SitePromotions(ctx) },
			add: func(ctx context.Context, st Staff, in fields) (int64, error) {
				p := control.SitePromotion{Name: in.get("name")}
				var err error
				if p.DownloadPercent, err = in.int("download_percent", 100); err != nil {
					return 0, err
				}
				if p.UploadPercent, err = in.int("upload_percent", 100); err != nil {
					return 0, err
				}
				if p.Starts, err = in.time("starts_at"); err != nil {
					return 0, err
				}
				if p.Ends, err = in.time("ends_at"); err != nil {
					return 0, err
				}
				return ctl.AddSitePromotion(ctx, actor(st), p)
			},
			del: func(ctx context.Context, st Staff, id int64) error {
				return ctl.DeleteSitePromotion(ctx, actor(st), id)
			}},
		{name: "allowlist", title: "Detector allowlist",
			fields: []field{{"member", "member id (or a network below)", "number", ""}, {"cidr", "network", "text", "203.0.113.0/24"},
				{"reason", "reason", "text", "declared seedbox host"}},
			list: func(ctx context.Context) (any, error) { return s.store.Allowlist(ctx, nil) },
			add: func(ctx context.Context, st Staff, in fields) (int64, error) {
				uid, err := in.int("member", 0)
				if err != nil {
					return 0, err
				}
				return s.store.AddAllow(ctx, st, int64(uid), in.get("cidr"), in.get("reason"))
			},
			del: func(ctx context.Context, st Staff, id int64) error { return s.store.DeleteAllow(ctx, st, id) }},
	}
}

// AddAllow puts a member (userID > 0) or a network on the detector
// allowlist, with its audit row.
func (s *Store) AddAllow(ctx context.Context, actor Staff, userID int64, cidr, reason string) (int64, error) {
	if reason == "" {
		return 0, InputError{"say why (reason): detectors skip allowlisted members and networks"}
	}
	kind, uid, network := "user", any(userID), any(nil)
	switch {
	case userID > 0 && cidr != "":
		return 0, InputError{"give a member id or a network, not both"}
	case userID < 0:
		return 0, InputError{"member must be a member id"}
	case userID == 0:
		p, ok := parseRange(cidr)
		if !ok {
			return 0, InputError{fmt.Sprintf("give a member id or a network (CIDR or address), not %q", cidr)}
		}
		kind, uid, network = "network", nil, p.String()
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("add allowlist entry: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	var id int64
	if err := tx.QueryRow(ctx, sqlInsertAllow, kind, uid, network, reason, "staff:"+actor.Name).Scan(&id); err != nil {
		if strings.Contains(err.Error(), "foreign key") {
			return 0, ErrMemberNotFound
		}
		return 0, fmt.Errorf("add allowlist entry: %w", err)
	}
	if err := audit(ctx, tx, actor, "allowlist.add", "detector_allowlist", id, reason, nil,
		map[string]any{"kind": kind, "user_id": uid, "cidr": network}); err != nil {
		return 0, err
	}
	return id, tx.Commit(ctx)
}

// DeleteAllow removes an allowlist entry, with its audit row.
func (s *Store) DeleteAllow(ctx context.Context, actor Staff, id int64) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("delete allowlist entry %d: %w", id, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	var kind, reason string
	var uid *int64
	var cidr *string
	err = tx.QueryRow(ctx, sqlDeleteAllow, id).Scan(&kind, &uid, &cidr, &reason)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrRowNotFound
	}
	if err != nil {
		return fmt.Errorf("delete allowlist entry %d: %w", id, err)
	}
	if err := audit(ctx, tx, actor, "allowlist.delete", "detector_allowlist", id, "",
		map[string]any{"kind": kind, "user_id": uid, "cidr": cidr, "reason": reason}, nil); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// settingRoutes are every setting's page, addition and deletion, as form
// and JSON routes, all for admins.
func (s *Server) settingRoutes() []route {
	var out []route
	for _, set := range s.settings() {
		set := set
		out = append(out,
			route{"GET", "/admin/" + set.name, RoleAdmin, func(w http.ResponseWriter, r *http.Request) { s.renderSetting(w, r, set, http.StatusOK, "", nil) }},
			route{"POST", "/admin/" + set.name, RoleAdmin, s.settingAddForm(set)},
			route{"POST", "/admin/" + set.name + "/{id}/delete", RoleAdmin, s.settingDeleteForm(set)},
			route{"GET", "/api/admin/" + set.name, RoleAdmin, s.settingListAPI(set)},
			route{"POST", "/api/admin/" + set.name, RoleAdmin, s.settingAddAPI(set)},
			route{"POST", "/api/admin/" + set.name + "/{id}/delete", RoleAdmin, s.settingDeleteAPI(set)},
		)
	}
	return out
}

func (s *Server) renderSetting(w http.ResponseWriter, r *http.Request, set setting, status int, msg string, typed fields) {
	rows, err := set.list(r.Context())
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	data := s.pageData(r, set.title)
	data["Setting"], data["Rows"], data["Error"], data["Typed"], data["Sections"] = set.name, rows, msg, typed, s.settingNames()
	data["Fields"] = set.fields
	s.render(w, r, status, "admin", data)
}

// settingNames are the admin sections for the page's navigation.
func (s *Server) settingNames() [][2]string {
	out := [][2]string{}
	for _, set := range s.settings() {
		out = append(out, [2]string{set.name, set.title})
	}
	return append(out, [2]string{"thresholds", "Detector thresholds"}, [2]string{"staff", "Staff accounts"}, [2]string{"tokens", "API tokens"})
}

func formFields(r *http.Request, set setting) fields {
	in := fields{}
	for _, f := range set.fields {
		in[f.Name] = r.PostFormValue(f.Name)
	}
	return in
}

// jsonFields reads a JSON object of the setting's fields (strings, numbers,
// booleans); other names are refused.
func (s *Server) jsonFields(w http.ResponseWriter, r *http.Request, set setting) (fields, bool) {
	var raw map[string]any
	names := make([]string, len(set.fields))
	for i, f := range set.fields {
		names[i] = f.Name
	}
	sort.Strings(names)
	shape := "{" + strings.Join(names, ", ") + "}"
	if !s.decodeJSON(w, r, &raw, shape) {
		return nil, false
	}
	in := fields{}
	for k, v := range raw {
		if !contains(names, k) {
			s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("unknown field %q: %s takes %s", k, set.name, shape), nil)
			return nil, false
		}
		switch x := v.(type) {
		case string:
			in[k] = x
		case bool, float64:
			b, _ := json.Marshal(x)
			in[k] = string(b)
		case nil:
		default:
			s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("field %q must be a string, number or boolean", k), nil)
			return nil, false
		}
	}
	return in, true
}

func (s *Server) settingAddForm(set setting) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		in := formFields(r, set)
		if _, err := set.add(r.Context(), staffOf(r), in); err != nil {
			s.renderSetting(w, r, set, statusFor(err), publicError(err), in)
			return
		}
		http.Redirect(w, r, "/admin/"+set.name, http.StatusSeeOther)
	}
}

func (s *Server) settingDeleteForm(set setting) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.pathID(w, r, set.name)
		if !ok {
			return
		}
		if err := set.del(r.Context(), staffOf(r), id); err != nil {
			s.renderSetting(w, r, set, statusFor(err), publicError(err), nil)
			return
		}
		http.Redirect(w, r, "/admin/"+set.name, http.StatusSeeOther)
	}
}

func (s *Server) settingListAPI(set setting) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rows, err := set.list(r.Context())
		if err != nil {
			s.fail(w, r, statusFor(err), publicError(err), err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{set.name: rows})
	}
}

func (s *Server) settingAddAPI(set setting) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		in, ok := s.jsonFields(w, r, set)
		if !ok {
			return
		}
		id, err := set.add(r.Context(), staffOf(r), in)
		if err != nil {
			s.fail(w, r, statusFor(err), publicError(err), err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"id": id})
	}
}

func (s *Server) settingDeleteAPI(set setting) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.pathID(w, r, set.name)
		if !ok {
			return
		}
		if err := set.del(r.Context(), staffOf(r), id); err != nil {
			s.fail(w, r, statusFor(err), publicError(err), err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"deleted": id})
	}
}

// adminIndex links the admin sections.
func (s *Server) adminIndex(w http.ResponseWriter, r *http.Request) {
	data := s.pageData(r, "Admin")
	data["Sections"] = s.settingNames()
	s.render(w, r, http.StatusOK, "admin", data)
}
