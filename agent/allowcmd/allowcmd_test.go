package allowcmd

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestPath(t *testing.T) {
	for goos, progs := range paths {
		for p, path := range progs {
			t.Run(string(p)+" on "+goos+" is an absolute path", func(t *testing.T) {
				abs := filepath.IsAbs(path) || strings.HasPrefix(path, "/") || (len(path) > 2 && path[1] == ':' && path[2] == '\\')
				if !abs {
					t.Errorf("%q is not absolute", path)
				}
			})
		}
	}
	t.Run("a program not allowed on the OS is refused", func(t *testing.T) {
		if _, err := Path("windows", NotifySend); !errors.Is(err, ErrNotAllowed) {
			t.Errorf("err = %v", err)
		}
		if _, err := (Exec{GOOS: "plan9"}).Run(context.Background(), Env); !errors.Is(err, ErrNotAllowed) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestLimitedKeepsTheStart(t *testing.T) {
	var l limited
	big := strings.Repeat("x", maxOutput+10)
	if n, _ := l.Write([]byte(big)); n != len(big) || l.Len() != maxOutput {
		t.Errorf("wrote %d, kept %d", n, l.Len())
	}
}
