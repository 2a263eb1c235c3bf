package ospatched

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

func TestParseAptSimulation(t *testing.T) {
	p := parseAptSimulation(checktest.Testdata(t, "linux", "apt-get__ubuntu2204_nonroot.txt"))
	want := []Update{
		{Name: "libc6", Version: "2.35-0ubuntu3.8", Origin: "Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security"},
		{Name: "libc-bin", Version: "2.35-0ubuntu3.8", Origin: "Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security"},
	}
	if diff := cmp.Diff(want, p.security); diff != "" || p.total != 3 {
		t.Errorf("total %d, security (-want +got):\n%s", p.total, diff)
	}
	real := parseAptSimulation(checktest.Testdata(t, "linux", "apt-get__debian12_security_pending.txt"))
	if real.total != 121 || len(real.security) != 74 {
		t.Errorf("real Debian output: %d upgrades, %d security", real.total, len(real.security))
	}
}

func TestParseInstalledOn(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"the usual M/d/yyyy form", "3/12/2024", "2024-03-12"},
		{"a compact date", "20241008", "2024-10-08"},
		{"a d.M.yyyy form", "08.10.2024", "2024-10-08"},
		{"a hexadecimal FILETIME", "01c9c5ce4b48e5fd", "2009-04-25"},
		{"a date with a time", "10/8/2024 12:00:00 AM", "2024-10-08"},
		{"a FILETIME past 2262 does not overflow into another date", "0fffffffffffffff", "5254-06-18"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseInstalledOn(tc.in)
			if !ok || got.Format(time.DateOnly) != tc.want {
				t.Errorf("parseInstalledOn(%q) = %v, %t; want %s", tc.in, got, ok, tc.want)
			}
		})
	}
	if _, ok := parseInstalledOn(""); ok {
		t.Error("an empty InstalledOn parsed")
	}
}

func TestParseDnf4(t *testing.T) {
	got := parseDnfSecurity(checktest.Testdata(t, "linux", "dnf4__security.txt"))
	want := []Update{
		{Name: "curl-8.6.0-8.fc40.x86_64", Origin: "FEDORA-2024-2a0e4f7a5e", Severity: "Important"},
		{Name: "glibc-2.39-8.fc40.x86_64", Origin: "FEDORA-2024-9f1c2b3d4e", Severity: "Moderate"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseWUASkipsDefinitionUpdates(t *testing.T) {
	rep, sec, total, err := parseWUA(checktest.Testdata(t, "windows", "powershell-wua__security_pending_utf16.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if total != 2 || len(sec) != 1 || sec[0].Version != "KB5072033" || rep.LastSearchSuccess == "" {
		t.Errorf("total %d, security %+v", total, sec)
	}
}

func TestParseWUACriticalUpdatesAreNotSecurityUpdates(t *testing.T) {
	// Microsoft's classification (KB 824684): a critical update fixes a
	// critical non-security bug. Only the Security Updates category or an
	// MSRC severity makes a security update.
	report := `{"LastSearchSuccess":"2026-11-23T06:12:40Z","LastInstallSuccess":"2026-11-12T03:01:12Z","Updates":[` +
		`{"Title":"Critical update","KB":"1","Severity":"","Released":"2026-11-01T00:00:00Z","Categories":["e6cf1350-c01b-414d-a61f-263d14d133b4"]},` +
		`{"Title":"Security update","KB":"2","Severity":"","Released":"2026-11-01T00:00:00Z","Categories":["{0FA1201D-4330-4FA8-8AE9-B877473B6441}"]},` +
		`{"Title":"Rated update","KB":"3","Severity":"Important","Released":"2026-11-01T00:00:00Z","Categories":[]}]}`
	_, sec, total, err := parseWUA([]byte(report))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range sec {
		got = append(got, u.Version)
	}
	if diff := cmp.Diff([]string{"KB2", "KB3"}, got); total != 3 || diff != "" {
		t.Errorf("total %d, security (-want +got):\n%s", total, diff)
	}
}

func TestLastAptHistoryUpgradeIgnoresInstalls(t *testing.T) {
	got, ok := lastAptHistoryUpgrade(checktest.Testdata(t, "linux", "history.log__debian12_no_recent_upgrade.txt"))
	if !ok || got.Format(time.DateTime) != "2025-06-24 14:36:25" {
		t.Errorf("last upgrade = %v, %t", got, ok)
	}
}

func TestCache(t *testing.T) {
	c := NewCache()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return clock }
	h := host.NewFake("linux", "amd64")
	release := make(chan struct{})
	var mu sync.Mutex
	runs := 0
	s := search{name: "slow", ttl: time.Hour, timeout: time.Minute, run: func(ctx context.Context) (*Pending, error) {
		mu.Lock()
		runs++
		mu.Unlock()
		<-release
		return &Pending{Source: "slow", CheckedAt: clock, Updates: []Update{{Name: "a"}}}, nil
	}}

	t.Run("a cycle that ends before the first search finishes times out", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.get(ctx, h, s); !errors.Is(err, host.ErrTimeout) {
			t.Fatalf("err = %v, want a timeout", err)
		}
	})
	close(release)
	t.Run("the next cycle gets the finished search's result", func(t *testing.T) {
		p, err := c.get(context.Background(), h, s)
		if err != nil || p.Source != "slow" {
			t.Fatalf("got %v, %v", p, err)
		}
	})
	t.Run("a fresh result is served without searching again", func(t *testing.T) {
		clock = clock.Add(30 * time.Minute)
		if _, err := c.get(context.Background(), h, s); err != nil {
			t.Fatal(err)
		}
		if runs != 1 {
			t.Errorf("searched %d times", runs)
		}
	})
	t.Run("an expired result is searched again and keeps the first-seen time", func(t *testing.T) {
		first := clock.Add(-30 * time.Minute)
		clock = clock.Add(2 * time.Hour)
		p, err := c.get(context.Background(), h, s)
		if err != nil || runs != 2 {
			t.Fatalf("runs %d, err %v", runs, err)
		}
		if got := p.Updates[0].FirstSeen; got == nil || !got.Equal(first) {
			t.Errorf("first seen %v, want %v", got, first)
		}
	})
	t.Run("another host does not share the answer", func(t *testing.T) {
		if _, err := c.get(context.Background(), host.NewFake("linux", "amd64"), s); err != nil || runs != 3 {
			t.Errorf("runs %d, err %v", runs, err)
		}
	})
}

// TestParseSoftwareUpdateRealCaptures reads `softwareupdate --list` as
// users printed it in public issues (testdata/README.md): macOS 26's
// "KiB" sizes and the trailing ", " after the last field, and Big Sur
// listing a Safari update without an Action field.
func TestParseSoftwareUpdateRealCaptures(t *testing.T) {
	tests := []struct {
		file         string
		runningMajor string
		want         []macUpdate
		wantSecurity []bool
	}{
		{"softwareupdate__tahoe_26_5_2_topgrade2123.txt", "26",
			[]macUpdate{{Label: "macOS Tahoe 26.5.2-25F84", Title: "macOS Tahoe 26.5.2", Version: "26.5.2", Recommended: true}},
			[]bool{true}},
		{"softwareupdate__bigsur_safari_and_11_6_installordefer60.txt", "11",
			[]macUpdate{
				{Label: "Safari15.0BigSurAuto-15.0", Title: "Safari", Version: "15.0", Recommended: true},
				{Label: "macOS Big Sur 11.6-20G165", Title: "macOS Big Sur 11.6", Version: "11.6", Recommended: true},
			},
			[]bool{true, true}},
		{"softwareupdate__monterey_12_1_clt_nixinfra.txt", "12",
			[]macUpdate{
				{Label: "Command Line Tools for Xcode-13.2", Title: "Command Line Tools for Xcode", Version: "13.2", Recommended: true},
				{Label: "Command Line Tools for Xcode-13.4", Title: "Command Line Tools for Xcode", Version: "13.4", Recommended: true},
				{Label: "Command Line Tools for Xcode-14.2", Title: "Command Line Tools for Xcode", Version: "14.2", Recommended: true},
				{Label: "macOS Monterey 12.6.7-21G651", Title: "macOS Monterey 12.6.7", Version: "12.6.7", Recommended: true},
				{Label: "macOS Ventura 13.4.1-22F82", Title: "macOS Ventura 13.4.1", Version: "13.4.1", Recommended: true},
			},
			[]bool{false, false, false, true, false}},
		{"softwareupdate__ventura_beta_clt_kolide.txt", "13",
			[]macUpdate{
				{Label: "Command Line Tools for Xcode-14.3", Title: "Command Line Tools for Xcode", Version: "14.3", Recommended: true},
				{Label: "macOS Ventura 13.4 Beta-22F5027f", Title: "macOS Ventura 13.4 Beta", Version: "13.4", Recommended: true},
			},
			[]bool{false, false}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got := parseSoftwareUpdateList(checktest.Testdata(t, "darwin", tc.file))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
			for i, u := range got {
				if sec := isMacSecurityUpdate(u, tc.runningMajor); sec != tc.wantSecurity[i] {
					t.Errorf("%s: security = %v, want %v", u.Label, sec, tc.wantSecurity[i])
				}
			}
		})
	}
}
