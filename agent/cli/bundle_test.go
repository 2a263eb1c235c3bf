package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
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
		if code := Main(context.Background(), f, []string{"bundle"}); code != ExitError || !strings.Contains(errOut.String(), "-o FILE") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	t.Run("privacy says what is and is not collected", func(t *testing.T) {
		f, stdout, _ := testFactory()
		if code := Main(context.Background(), f, []string{"privacy"}); code != ExitOK {
			t.Fatalf("exit %d", code)
		}
		for _, want := range []string{"What Postern collects", "not the network's name", "browsing"} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("privacy lacks %q", want)
			}
		}
	})
}
