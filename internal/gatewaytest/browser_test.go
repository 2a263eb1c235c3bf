package gatewaytest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/postern-dev/postern/agent/allowcmd"
	"github.com/postern-dev/postern/agent/browsercert"
	agentcli "github.com/postern-dev/postern/agent/cli"
	"github.com/postern-dev/postern/agent/runner"
	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/consoleuser"
	"github.com/postern-dev/postern/internal/testserver"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "write docs/screenshots/blocked.png and unreachable.png")

// screenshot writes the page in view to docs/screenshots/name when
// -update-screenshots is given.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if !*updateScreenshots {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", name), png, 0o644)
	}
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
	}
}

// need returns a program's path, failing in CI and skipping elsewhere
// when it is missing.
func need(t *testing.T, hint string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not found: %s", names[0], hint)
	}
	t.Skipf("%s not found: %s", names[0], hint)
	return ""
}

// policyChromium returns a launcher that runs Chromium in a private mount
// namespace where /etc/chromium is etcChromium: Debian's Chromium reads
// managed policies only from /etc/chromium/policies/managed, and the test
// must not write there. Root gets a plain mount namespace, anyone else a
// user namespace mapping them to root.
func policyChromium(t *testing.T, etcChromium string) (launcher string, env []string) {
	t.Helper()
	chromium := need(t, "apt-get install -y chromium (.ci/run does)", "chromium")
	unshare := need(t, "unshare (util-linux) is needed to give Chromium the test's policy folder", "unshare")
	if _, err := os.Stat("/etc/chromium"); err != nil {
		t.Skipf("/etc/chromium is missing (not Debian's Chromium package): %v", err)
	}
	args := []string{"--mount", "--propagation", "private"}
	if os.Getuid() != 0 {
		args = append(args, "--map-root-user")
	}
	probe := exec.Command(unshare, append(args, "/bin/sh", "-c", `mount --bind "$0" /etc/chromium`, etcChromium)...)
	if out, err := probe.CombinedOutput(); err != nil {
		msg := fmt.Sprintf("cannot bind-mount the policy folder in a mount namespace: %v: %s", err, out)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	launcher = filepath.Join(t.TempDir(), "chromium-with-policy")
	script := "#!/bin/sh\nexec " + unshare + " " + strings.Join(args, " ") +
		` /bin/sh -c 'mount --bind "$POSTERN_ETC_CHROMIUM" /etc/chromium && exec "$POSTERN_CHROMIUM" "$@"' chromium "$@"` + "\n"
	if err := os.WriteFile(launcher, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return launcher, []string{"POSTERN_ETC_CHROMIUM=" + etcChromium, "POSTERN_CHROMIUM=" + chromium}
}

// chromiumAt starts headless Chromium through launcher with HOME set to
// home, whose ~/.pki/nssdb holds the client certificates.
func chromiumAt(t *testing.T, launcher, home string, env []string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(launcher),
		chromedp.Env(append([]string{"HOME=" + home}, env...)...),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// The gateway's own certificate is a throwaway one; the client
		// certificate is what is under test.
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 760),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel3)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// page is what a page load showed.
type page struct {
	status    int
	h1, text  string
	blockList int
}

// loadPage navigates to url and reads the page: HTTP status of the document,
// first heading, whole text and the number of blocking items.
func loadPage(t *testing.T, ctx context.Context, url string) page {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("load %s: %v", url, err)
	}
	var p page
	var err error
	eval := func(expr string, dst any) {
		if err != nil {
			return
		}
		switch d := dst.(type) {
		case *int:
			*d, err = chromedp.Run(ctx, chromedp.Evaluate[int](expr))
		case *string:
			*d, err = chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		}
	}
	eval(`performance.getEntriesByType('navigation')[0].responseStatus`, &p.status)
	eval(`(document.querySelector('h1') || {innerText: ''}).innerText`, &p.h1)
	eval(`document.body ? document.body.innerText : ''`, &p.text)
	eval(`document.querySelectorAll('#blocking li').length`, &p.blockList)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return p
}

// TestChromiumThroughTheGateway is the gate as a person meets it: the
// agent enrolls, places its certificate in a fresh NSS database and
// writes the browser policy; Chromium with that policy opens the EHR
// behind nginx (configured as docs/gateway-nginx.md says), gets
// Postern's block page on the first load after the device turns
// non-compliant, and the "could not be verified" page when Postern is
// down.
func TestChromiumThroughTheGateway(t *testing.T) {
	bin := findNginx(t)
	need(t, "apt-get install -y libnss3-tools (.ci/run does)", "pk12util")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	port := freePort(t)
	gateway := fmt.Sprintf("https://localhost:%d", port)
	srv := testserver.Start(t, ctx, testserver.Options{Policy: policyYAML, TrustedProxies: []string{"127.0.0.1/32"}, GatewayURL: gateway})

	// The agent enrolls and reports a compliant machine.
	stateDir := t.TempDir()
	id, err := agentcli.Enroll(ctx, agentcli.EnrollOptions{StateDir: stateDir, Server: srv.QUICAddr, Token: srv.Cmd(t, "token", "create"),
		Host: testserver.Snapshot(t, "linux-compliant")})
	if err != nil {
		t.Fatalf("enroll: %v", err)
	}
	report(t, ctx, stateDir, "linux-compliant")

	// Its certificate goes into the console user's fresh NSS database
	// and the policy into a copy of /etc/chromium, through the agent's
	// own placement code.
	home, etc := t.TempDir(), t.TempDir()
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	uid := strconv.Itoa(os.Getuid())
	m := &browsercert.Manager{
		Store:    browsercert.NSS{Run: allowcmd.Exec{GOOS: "linux"}, SelfUID: uid, TempDir: t.TempDir()},
		Policies: browsercert.FilePolicies{Root: etc},
		ConsoleUser: func(context.Context) (consoleuser.User, error) {
			return consoleuser.User{Name: me.Username, ID: uid, Home: home}, nil
		},
		StateDir: stateDir,
	}
	dir, err := state.Open(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	ident, err := browsercert.FromState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ident.GatewayURL != gateway {
		t.Fatalf("the enrollment delivered gateway URL %q, want %q", ident.GatewayURL, gateway)
	}
	if err := m.Sync(ctx, ident); err != nil {
		t.Fatalf("place the certificate: %v", err)
	}
	if _, err := os.Stat(filepath.Join(home, ".pki", "nssdb", "cert9.db")); err != nil {
		t.Fatalf("no NSS database in the user's home: %v", err)
	}

	certFile, keyFile, _ := gatewayCert(t, t.TempDir())
	conf := substitute(t, nginxBlock(t), map[string]string{
		"LISTEN": fmt.Sprintf("127.0.0.1:%d", port), "SERVER_CERT": certFile, "SERVER_KEY": keyFile,
		"DEVICE_CA": srv.CAFile(), "POSTERN": srv.HTTPSAddr, "POSTERN_NAME": "localhost", "POSTERN_CA": srv.CAFile(),
		"UPSTREAM": upstream(t), "PAGES": pagesDir(t),
	})
	startNginx(t, ctx, bin, conf, port)

	launcher, env := policyChromium(t, filepath.Join(etc, "etc", "chromium"))
	browser := chromiumAt(t, launcher, home, env)
	url := gateway + "/ehr/chart"

	// Headless Chromium cannot ask the user which certificate to present:
	// without the policy it waits for an answer that never comes (seen
	// with Chromium 156), so a page that loads shows the policy chose.
	t.Run("a compliant device opens the EHR without being asked for a certificate", func(t *testing.T) {
		p := loadPage(t, browser, url)
		if p.status != 200 || !strings.Contains(p.text, "upstream served device "+id.DeviceID) {
			t.Fatalf("status %d, page %q", p.status, p.text)
		}
	})

	t.Run("the first load after the device turns non-compliant shows Postern's block page", func(t *testing.T) {
		report(t, ctx, stateDir, "linux-noncompliant")
		acked := time.Now()
		p := loadPage(t, browser, url)
		t.Logf("block page shown %v after the report's ack", time.Since(acked).Round(time.Millisecond))
		if p.status != 403 || p.h1 != "This device may not open the EHR right now" {
			t.Fatalf("status %d, heading %q, page %q", p.status, p.h1, p.text)
		}
		for _, want := range []string{id.DeviceID, checks.Firewall.Title(), checks.DiskEncryption.Title(), "How to fix:", "postern-agent check"} {
			if !strings.Contains(p.text, want) {
				t.Errorf("block page lacks %q:\n%s", want, p.text)
			}
		}
		if p.blockList < 2 || strings.Contains(p.text, "control_failed") {
			t.Errorf("want each failing control in plain words (%d items):\n%s", p.blockList, p.text)
		}
		screenshot(t, browser, "blocked.png")
	})

	t.Run("a revoked device's certificate and the policy leave the machine at its next report", func(t *testing.T) {
		srv.Cmd(t, "device", "revoke", id.DeviceID, "--reason", "laptop stolen", "--by", "e2e")
		r, err := runner.New(runner.Config{StateDir: stateDir, Host: testserver.Snapshot(t, "linux-compliant"), AckTimeout: 20 * time.Second,
			// As the agent's service wires it (agent/cli).
			OnRefused: func() {
				if err := m.Clear(context.Background(), id.DeviceID); err != nil {
					t.Errorf("clear: %v", err)
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
		var refused *runner.RefusedError
		if _, err := r.Once(ctx); !errors.As(err, &refused) || refused.Refusal.Reason != state.RefusedRevoked {
			t.Fatalf("report after revocation: %v, want a revocation refusal", err)
		}
		out, err := exec.Command("certutil", "-L", "-d", "sql:"+filepath.Join(home, ".pki", "nssdb")).CombinedOutput()
		if err != nil || strings.Contains(string(out), id.DeviceID) {
			t.Errorf("NSS database after revocation (%v):\n%s", err, out)
		}
		if _, err := os.Stat(filepath.Join(etc, "etc", "chromium", "policies", "managed", "postern.json")); !os.IsNotExist(err) {
			t.Errorf("Chromium policy after revocation: %v", err)
		}
	})

	t.Run("with Postern stopped the device could not be verified, instead of a 500", func(t *testing.T) {
		srv.Stop()
		p := loadPage(t, browser, url)
		if p.status != 503 || p.h1 != "Your device could not be verified" {
			t.Fatalf("status %d, heading %q, page %q", p.status, p.h1, p.text)
		}
		screenshot(t, browser, "unreachable.png")
	})
}
