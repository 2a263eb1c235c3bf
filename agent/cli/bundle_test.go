package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern-dev/postern/agent/bundle"
)

func TestBundleAndPrivacy(t *testing.T) {
	t.Run("a bundle re-checks with check --replay", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "bundle.tar.gz")
		f, stdout, errOut := testFactory()
		if code := Main(context.Background(), f, []string{"bundle", "-o", out, "--state", t.TempDir()}); code != ExitOK {
			t.Fatalf("bundle: exit %d: %s", code, errOut)
		}
		if !strings.Contains(stdout.String(), "check --replay "+out) {
			t.Errorf("stdout %q", stdout)
		}
		f, stdout, errOut = testFactory()
		if code := Main(context.Background(), f, []string{"check", "--replay", out}); code != ExitNotCompliant {
			t.Fatalf("check --replay: exit %d: %s", code, errOut)
		}
		if !strings.Contains(stdout.String(), "NOT COMPLIANT") {
			t.Errorf("stdout %q", stdout)
		}
	})
	t.Run("bundle without -o is refused", func(t *testing.T) {
		f, _, errOut := testFactory()
		if code := Main(context.Background(), f, []string{"bundle"}); code != ExitUsage || !strings.Contains(errOut.String(), "-o FILE") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	t.Run("bundle does not overwrite a file without --force", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "notes.txt")
		if err := os.WriteFile(out, []byte("precious"), 0o600); err != nil {
			t.Fatal(err)
		}
		f, _, errOut := testFactory()
		if code := Main(context.Background(), f, []string{"bundle", "-o", out, "--state", t.TempDir()}); code != ExitFailure || !strings.Contains(errOut.String(), "--force") {
			t.Errorf("exit %d: %s", code, errOut)
		}
		if b, _ := os.ReadFile(out); string(b) != "precious" {
			t.Fatalf("the file was replaced")
		}
		f, _, errOut = testFactory()
		if code := Main(context.Background(), f, []string{"bundle", "-o", out, "--force", "--state", t.TempDir()}); code != ExitOK {
			t.Errorf("with --force: exit %d: %s", code, errOut)
		}
	})
	t.Run("privacy says what is and is not collected", func(t *testing.T) {
		f, stdout, _ := testFactory()
		if code := Main(context.Background(), f, []string{"privacy"}); code != ExitOK {
			t.Fatalf("exit %d", code)
		}
		for _, want := range []string{"What Postern collects", "not the network's name", "browsing", bundle.Summary()} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("privacy lacks %q", want)
			}
		}
		// The note once said a bundle "can include ... the current Wi-Fi
		// network's name"; the bundle removes it.
		for _, e := range bundle.Redactions {
			if !strings.Contains(strings.Join(strings.Fields(stdout.String()), " "), e.What) {
				t.Errorf("privacy does not say the bundle removes %q", e.What)
			}
		}
		if strings.Contains(stdout.String(), "network's name)") || strings.Contains(stdout.String(), "can include") {
			t.Errorf("privacy says a bundle can hold a network name:\n%s", stdout)
		}
	})
}
