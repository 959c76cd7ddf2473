package site

import (
	"fmt"
	"strings"

	"github.com/ratioguard/ratioguard/tracker/admin"
)

// promoAliases maps sites' promotion names (lowercase, without spaces,
// underscores or dashes) to the forms admin.ParsePromotion reads: popgen's
// (none, free, half, 2x, free2x, 30%), NexusPHP's sp_state names (normal,
// free, twoup, twoupfree, halfdown, twouphalfdown, thirtypercent) and
// Gazelle's freeleech.
var promoAliases = map[string]string{
	"":              "none",
	"normal":        "none",
	"freeleech":     "free",
	"half":          "50%",
	"halfleech":     "50%",
	"halfdown":      "50%",
	"free2x":        "free+2x",
	"2xfree":        "free+2x",
	"twoupfree":     "free+2x",
	"2x50%":         "50%+2x",
	"50%2x":         "50%+2x",
	"twouphalfdown": "50%+2x",
	"twoup":         "2x",
	"doubleup":      "2x",
	"thirtypercent": "30%",
}

// Promotion maps a site's promotion name to ratioguard's (the torrents
// table's promotion, promo_download_percent and promo_upload_percent):
// every form `torrent add --promo` takes (none, free, 50%, 2x, free+2x, ...)
// plus the aliases above.
func Promotion(s string) (admin.Promotion, error) {
	k := strings.ToLower(strings.TrimSpace(s))
	k = strings.NewReplacer(" ", "", "_", "", "-", "").Replace(k)
	if a, ok := promoAliases[k]; ok {
		k = a
	}
	p, err := admin.ParsePromotion(k)
	if err != nil {
		return p, fmt.Errorf("%q is not a promotion (none, free, half, 30%%, 2x, free2x, free+2x, 50%%+2x, ...)", s)
	}
	return p, nil
}
