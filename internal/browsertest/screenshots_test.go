package browsertest

import (
	"context"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/postern-dev/postern/server/dashboard/dashtest"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "write docs/screenshots/*.png from a seeded fleet")

// TestScreenshots renders the main pages over a seeded fleet of 240
// devices with a month of trend, and writes them for the README.
func TestScreenshots(t *testing.T) {
	if !*updateScreenshots {
		t.Skip("run with -update-screenshots to write docs/screenshots")
	}
	e := newEnv(t, dashtest.Fleet(240, 2025))
	fleet := e.st
	ctx := context.Background()
	today, err := fleet.FleetCounts(ctx, store.Thresholds{Now: t0, StaleAfter: 15 * time.Minute, InactiveAfter: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for i := 29; i >= 1; i-- {
		// A month of daily counts that improves as the team remediates,
		// ending at today's counts.
		c := maps.Clone(today.ByStatus)
		worse := min(i+(i%4)*2, c[store.StatusCompliant]/3)
		c[store.StatusCompliant] -= worse
		c[store.StatusNoncompliant] += worse
		if err := fleet.RecordTrend(ctx, t0.AddDate(0, 0, -i), c); err != nil {
			t.Fatal(err)
		}
	}
	page, err := fleet.FleetDevices(ctx, store.FleetQuery{Thresholds: store.Thresholds{Now: t0, StaleAfter: 15 * time.Minute, InactiveAfter: 30 * 24 * time.Hour},
		Status: store.StatusNoncompliant, Limit: 1})
	if err != nil || len(page.Devices) == 0 {
		t.Fatalf("no non-compliant device to show: %v", err)
	}
	notes := e.st
	if _, err := notes.AddNote(ctx, store.Note{DeviceID: page.Devices[0].ID, Author: "analyst.kim", CreatedAt: t0.Add(-12 * time.Minute),
		Body: "Called the owner: the laptop is back from repair. Asked them to reconnect to the clinic VPN and run a recheck."}); err != nil {
		t.Fatal(err)
	}
	e.addUser("approver", users.RoleApprover, true)
	bctx := browser(t)
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1440, 900)); err != nil {
		t.Fatal(err)
	}
	if err := e.signIn(bctx, "approver", ownPassword); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	for _, shot := range []struct{ file, path, ready string }{
		{"overview.png", "/ui/", ".tiles"},
		{"devices.png", "/ui/devices?sort=status", "#devices"},
		{"device.png", "/ui/devices/" + page.Devices[0].ID, "table.controls"},
	} {
		if err := chromedp.Do(bctx, chromedp.Navigate(e.url+shot.path), chromedp.WaitVisible(shot.ready)); err != nil {
			t.Fatalf("%s: %v", shot.path, err)
		}
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", shot.path, err)
		}
		if err := os.WriteFile(filepath.Join(dir, shot.file), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
