package fixtext

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHTML(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     string
	}{
		{"a command is code and nothing else is", "Run `sudo ufw enable` as root.", "Run <code>sudo ufw enable</code> as root."},
		{"two commands", "`a` then `b`", "<code>a</code> then <code>b</code>"},
		{"markup in a command or the words is escaped", "Run `echo <b>&` <i>", "Run <code>echo &lt;b&gt;&amp;</code> &lt;i&gt;"},
		{"an unmatched backtick is dropped, not shown", "it's `odd", "it&#39;s odd"},
		{"no text, no markup", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, string(HTML(tc.in))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
