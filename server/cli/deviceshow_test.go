package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDeviceShow(t *testing.T) {
	dir := enrolled(t)
	t.Run("a device that never reported is denied, with the reason, in JSON", func(t *testing.T) {
		out, errOut, code := run(t, "device", "show", "dev1", "--json", "--data", dir)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var got struct {
			ID       string `json:"id"`
			Allow    bool   `json:"allow"`
			Decision struct {
				Allow   bool `json:"allow"`
				Reasons []struct {
					Code string `json:"code"`
				} `json:"reasons"`
			} `json:"decision"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if got.ID != "dev1" || got.Allow || got.Decision.Allow || len(got.Decision.Reasons) == 0 {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("the text form says blocked and why", func(t *testing.T) {
		out, errOut, code := run(t, "device", "show", "dev1", "--data", dir)
		if code != 0 || !strings.Contains(out, "device     dev1") || !strings.Contains(out, "denied:") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
	t.Run("an unknown device fails naming it", func(t *testing.T) {
		_, errOut, code := run(t, "device", "show", "ghost", "--data", dir)
		if code != 1 || !strings.Contains(errOut, `no device "ghost"`) {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("no ID is a usage error", func(t *testing.T) {
		if _, _, code := run(t, "device", "show", "--data", dir); code != 2 {
			t.Fatalf("exit %d, want 2", code)
		}
	})
}
