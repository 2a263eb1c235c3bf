package firewall

import (
	"testing"

	"github.com/postern-dev/postern/checks/internal/checktest"
)

// A line longer than any scanner buffer (a long rule comment, a pasted
// key) must not hide the lines after it: the parsers used to stop there.
func TestLongLinesDoNotHideLaterLines(t *testing.T) {
	t.Run("ufw.conf's ENABLED after a long comment is read", func(t *testing.T) {
		enabled, ok := parseUFWConf([]byte(checktest.LongLine("# ") + "\nENABLED=yes\n"))
		if !enabled || !ok {
			t.Errorf("parseUFWConf = %t, %t; want true, true", enabled, ok)
		}
	})
	t.Run("an INPUT DROP policy after a long comment is seen", func(t *testing.T) {
		in := "*filter\n" + checktest.LongLine("# ") + "\n:INPUT DROP [0:0]\n" +
			`-A INPUT -m comment --comment "` + checktest.LongLine("") + `" -j LOG` + "\nCOMMIT\n"
		rs, err := parseIPTablesSave([]byte(in), "ip")
		if err != nil {
			t.Fatal(err)
		}
		cs := rs.inputChains()
		if len(cs) != 1 || cs[0].Policy != verdictDrop || cs[0].Verdict != verdictDrop {
			t.Errorf("input chains %+v, want one dropping by policy", cs)
		}
	})
}
