package reports_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ratioguard/ratioguard/enforce"
	"github.com/ratioguard/ratioguard/enforce/rules"
)

// chromium is Debian's chromium (scripts/test-deps installs it), never a
// downloaded browser. Missing: the test fails under CI=true, skips elsewhere.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (scripts/test-deps installs Debian's chromium)")
	}
	t.Skip("chromium is not installed; run scripts/test-deps")
	return ""
}

// screens is where the walkthrough's screenshots go: $RG_ARTIFACTS_DIR/console
// when set (CI keeps it), else the test's temporary directory.
func screens(t *testing.T) string {
	dir := t.TempDir()
	if base := os.Getenv("RG_ARTIFACTS_DIR"); base != "" {
		dir = filepath.Join(base, "console")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A moderator in Chromium: signs in, opens the queue, the faked-upload
// report, follows its torrent and member links, reads the member's IP
// history, searches the member's network, confirms the report with the
// reversal pre-filled from the evidence after previewing what enforce will
// do; enforcement runs; the moderator sees the report enforced, the member's
// credited upload reduced with the adjustment naming the report, and the
// audit rows of the review and of enforcement. Every page
// is saved as a screenshot.
func TestModeratorWalkthroughInChromium(t *testing.T) {
	t.Parallel()
	exe := chromium(t)
	s := setupSite(t)
	dir := screens(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(1280, 1600), chromedp.UserDataDir(t.TempDir()),
		chromedp.Env("TMPDIR="+t.TempDir())) // chromium's own scratch files go with the test
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	n := 0
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			png, err := chromedp.FullScreenshot(100)(ctx, tg) // 100: PNG
			if err != nil {
				return err
			}
			n++
			return os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
		})
	}
	see := func(what string, wants ...string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			text, err := chromedp.Text(chromedp.CSS("main"))(ctx, tg)
			if err != nil {
				return err
			}
			for _, w := range wants {
				if !strings.Contains(text, w) {
					t.Errorf("%s lacks %q:\n%s", what, w, text)
				}
			}
			return nil
		})
	}
	report := "/reports/" + itoa(s.reportID)
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="name"]`)),
		shot("01-sign-in"),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "mod"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "correct horse battery"),
		chromedp.Click(chromedp.CSS(`main form button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="`+report+`"]`)),
		see("queue", "faked_upload", "cheater"),
		shot("02-queue"),
		chromedp.Click(chromedp.CSS(`a[href="`+report+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/torrents/9"]`)),
		see("report", "uploaded 40 GiB while the swarm had no leecher", "Big.Buck.Bunny.1080p", "114.44 MiB/s"),
		shot("03-report"),
		chromedp.Click(chromedp.CSS(`table a[href="/torrents/9"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h2[contains(., "Balance per day")]`)),
		see("torrent", "Big.Buck.Bunny.1080p", "times cheated", "out of balance", "cheater"),
		shot("04-torrent"),
		chromedp.Click(chromedp.Search(`//h2[contains(., "Members whose claims")]/following::table[1]//a[text()="cheater"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#ips`)),
		see("member", "cheater", "198.51.100.7", "198.51.100.0/24", "2001:db8:1:2::/64", "dave", "qBittorrent/4.6.5", "ratio_watch"),
		shot("05-member"),
		chromedp.SendKeys(chromedp.CSS(`header input[name="q"]`), "198.51.100.0/24\n"),
		chromedp.WaitVisible(chromedp.Search(`//h2[contains(., "Members seen on")]`)),
		see("search", "Members seen on 198.51.100.0/24", "dave", "198.51.100.9"),
		shot("06-search"),
		chromedp.Navigate(s.srv.URL+report),
		chromedp.WaitVisible(chromedp.CSS(`input[name="reverse_uploaded"]`)),
		see("review form", "pre-filled with the evidence's suspicious bytes (39.12 GiB)"),
		chromedp.Click(chromedp.CSS(`input[value="reverse_credit"]`)),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="note"]`), "no leecher took these bytes"),
		shot("07-review"),
		chromedp.Click(chromedp.CSS(`button[name="preview"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h3[contains(., "What enforce will do")]`)),
		see("plan", "verdict/reverse_credit", "ledger adjustment: upload -39.12 GiB", "Nothing is saved yet"),
		shot("08-plan"),
		chromedp.Click(chromedp.CSS(`button[value="confirmed"]`)),
		chromedp.WaitVisible(chromedp.Search(`//p[contains(., "status confirmed by mod")]`)),
		see("confirmed report", "reverse_credit", "report.confirm"),
		shot("09-confirmed"),
	)
	if err != nil {
		t.Fatalf("walkthrough: %v (screenshots in %s)", err, dir)
	}
	// Enforcement runs (as `ratioguard enforce` does) and carries the verdict out.
	runner, err := enforce.New(s.pg.Pool, enforce.Options{Config: rules.Default()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runner.Once(context.Background()); err != nil {
		t.Fatalf("enforce: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(s.srv.URL+report),
		chromedp.WaitVisible(chromedp.Search(`//p[contains(., "enforced")]`)),
		shot("10-enforced"),
		chromedp.Navigate(s.srv.URL+"/members/1"),
		chromedp.WaitVisible(chromedp.CSS(`#notes`)),
		// Credited upload 50 GiB less the 39.12 GiB reversed; the adjustment names the report.
		see("member after enforcement", "confirmed by mod", "10.88 GiB", "-39.12 GiB", "report #"+itoa(s.reportID), "verdict.reverse_credit", "report.confirm"),
		shot("11-member-after"),
		chromedp.Navigate(s.srv.URL+"/watch"),
		chromedp.WaitVisible(chromedp.Search(`//h2[contains(., "Ratio watch")]`)),
		shot("12-watch"),
		chromedp.Navigate(s.srv.URL+"/audit"),
		chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "Audit log")]`)),
		see("audit", "staff:mod", "report.confirm", "enforce/verdicts"),
		shot("13-audit"),
	)
	if err != nil {
		t.Fatalf("walkthrough: %v (screenshots in %s)", err, dir)
	}
	if d, _ := s.store.Get(context.Background(), s.reportID); d.Status != "confirmed" || d.ReverseUploaded != "42000000000" {
		t.Errorf("the review in the browser stored %+v", d)
	}
	t.Logf("%d screenshots in %s", n, dir)
}
