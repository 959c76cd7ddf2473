package site

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// expireBatch is how many tokens one callback carries (Ocelot sends its
// buffer once it passes 350 characters, about 30 user:torrent pairs).
const expireBatch = 30

// Expirer calls a Gazelle site back for the freeleech tokens a completion
// used up, as Ocelot does: GET {site}/tools.php?key=…&type=expiretoken&
// action=ocelot&tokens=user:torrent,… (the site marks them expired and tells
// the tracker to remove them). The tokens wait in ratioguard_token_expiry,
// queued by the batch that used them up, until the site answers 200: a
// crash or an unreachable site only delays them (the site's update is
// idempotent).
type Expirer struct {
	DB     *sql.DB
	Site   string // the site's base URL (Ocelot's site_host + site_path)
	Key    string // the site's TRACKER_SECRET (Ocelot's site_password)
	Client *http.Client
}

// Flush sends every queued expiry and returns how many the site took.
func (e *Expirer) Flush(ctx context.Context) (int, error) {
	sent := 0
	for {
		pairs, err := e.queued(ctx)
		if err != nil || len(pairs) == 0 {
			return sent, err
		}
		if err := e.send(ctx, pairs); err != nil {
			return sent, err
		}
		for _, p := range pairs {
			if _, err := e.DB.ExecContext(ctx, q("delete_expiry"), p.user, p.torrent); err != nil {
				return sent, fmt.Errorf("forget sent token expiry %d:%d: %w", p.user, p.torrent, err)
			}
		}
		sent += len(pairs)
	}
}

func (e *Expirer) queued(ctx context.Context) ([]pair, error) {
	rs, err := e.DB.QueryContext(ctx, q("queued_expiries"), expireBatch)
	if err != nil {
		return nil, fmt.Errorf("read queued token expiries: %w", err)
	}
	defer rs.Close()
	var out []pair
	for rs.Next() {
		var p pair
		if err := rs.Scan(&p.user, &p.torrent); err != nil {
			return nil, fmt.Errorf("read queued token expiries: %w", err)
		}
		out = append(out, p)
	}
	return out, rs.Err()
}

// ExpireURL is the callback Ocelot makes for pairs (user:torrent).
func ExpireURL(site, key string, pairs [][2]int64) string {
	tokens := make([]string, len(pairs))
	for i, p := range pairs {
		tokens[i] = strconv.FormatInt(p[0], 10) + ":" + strconv.FormatInt(p[1], 10)
	}
	v := url.Values{"key": {key}, "type": {"expiretoken"}, "action": {"ocelot"}}
	// tokens last and unescaped, as Ocelot writes them (digits, ':' and ',').
	return strings.TrimSuffix(site, "/") + "/tools.php?" + v.Encode() + "&tokens=" + strings.Join(tokens, ",")
}

func (e *Expirer) send(ctx context.Context, pairs []pair) error {
	ps := make([][2]int64, len(pairs))
	for i, p := range pairs {
		ps[i] = [2]int64{p.user, p.torrent}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ExpireURL(e.Site, e.Key, ps), nil)
	if err != nil {
		return fmt.Errorf("token expiry callback: %w", err)
	}
	cl := e.Client
	if cl == nil {
		cl = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := cl.Do(req)
	if err != nil {
		return fmt.Errorf("token expiry callback to the site: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("token expiry callback: the site answered %s", resp.Status)
	}
	return nil
}
