package cli

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBrowserCertCommand(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want BrowserCertOptions
	}{
		{"place puts the certificate for the console user", []string{"place", "--state", "/s"}, BrowserCertOptions{StateDir: "/s"}},
		{"remove takes it out", []string{"remove", "--state", "/s"}, BrowserCertOptions{StateDir: "/s", Remove: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, _ := testFactory()
			var got *BrowserCertOptions
			cmd := NewCmdBrowserCert(f, func(_ context.Context, o *BrowserCertOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatal("not run")
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("removing from a device that never enrolled is not an error", func(t *testing.T) {
		f, out, errOut := testFactory()
		if code := Main(context.Background(), f, []string{"browser-cert", "remove", "--state", t.TempDir()}); code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if out.String() != "device certificate removed from the browsers' stores\n" {
			t.Errorf("output %q", out)
		}
	})
}
