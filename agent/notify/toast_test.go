package notify

import (
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/agent/allowcmd"
	"github.com/postern-dev/postern/checks/consoleuser"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var dan = consoleuser.User{Name: `CORP\dan`, ID: "S-1-5-21-1", SessionType: "console"}

// hostile is a control summary written to break out of PowerShell, XML
// and command-line quoting at once.
const hostile = "Fix \"now\" $(Remove-Item C:\\ -Recurse) `whoami` '; & calc <b>&amp;</b>]]>\x00\x1b"

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func TestToastScript(t *testing.T) {
	t.Run("the script matches its golden text", func(t *testing.T) {
		golden(t, "toast.ps1", []byte(ToastScript))
	})
	t.Run("the script starts with a UTF-8 byte order mark for Windows PowerShell 5.1", func(t *testing.T) {
		if !strings.HasPrefix(ToastScript, "\xEF\xBB\xBF") {
			t.Error("no BOM")
		}
	})
	t.Run("the script reads the text from the XML file beside it", func(t *testing.T) {
		if !strings.Contains(ToastScript, "'"+ToastXMLName+"'") {
			t.Errorf("script does not name %s", ToastXMLName)
		}
	})
}

func TestToastXML(t *testing.T) {
	tests := []struct {
		name, golden, body string
	}{
		{"a plain body is shown as written", "toast__plain.xml", "Fix: Screen lock. Turn on the screen lock."},
		{"hostile text is escaped as XML text", "toast__hostile.xml", hostile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ToastXML(Title, tt.body)
			golden(t, tt.golden, got)
			texts := parseToastTexts(t, got)
			want := []string{Title, strings.Map(func(r rune) rune {
				if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
					return '\uFFFD'
				}
				return r
			}, tt.body)}
			if diff := cmp.Diff(want, texts); diff != "" {
				t.Errorf("texts a parser reads back (-want +got):\n%s", diff)
			}
		})
	}
}

// parseToastTexts returns the <text> elements as an XML parser sees them,
// proving the document is well-formed and the text round-trips.
func parseToastTexts(t *testing.T, doc []byte) []string {
	t.Helper()
	var v struct {
		Texts []string `xml:"visual>binding>text"`
	}
	if err := xml.Unmarshal(doc, &v); err != nil {
		t.Fatalf("toast XML does not parse: %v\n%s", err, doc)
	}
	return v.Texts
}

func TestToastCommands(t *testing.T) {
	ps := `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe -NoProfile -WindowStyle Hidden -ExecutionPolicy Bypass -File `
	run := []string{"/Run", "/TN", `Postern\Notify`}
	tests := []struct {
		name, script string
		user         consoleuser.User
		wantCreate   []string
		wantErr      bool
	}{
		{"the task runs the script as the console user only while signed in", `C:\ProgramData\Postern\notify\toast.ps1`, dan,
			[]string{"/Create", "/TN", `Postern\Notify`, "/TR", ps + `C:\ProgramData\Postern\notify\toast.ps1`,
				"/SC", "ONCE", "/ST", "00:00", "/RU", `CORP\dan`, "/IT", "/F"}, false},
		{"a script path with a space is quoted", `D:\Program Data\Postern\notify\toast.ps1`, dan,
			[]string{"/Create", "/TN", `Postern\Notify`, "/TR", ps + `"D:\Program Data\Postern\notify\toast.ps1"`,
				"/SC", "ONCE", "/ST", "00:00", "/RU", `CORP\dan`, "/IT", "/F"}, false},
		{"a script path with a quote is refused", `C:\x"y\toast.ps1`, dan, nil, true},
		{"a task command longer than schtasks takes is refused", `C:\` + strings.Repeat("d", 200) + `\toast.ps1`, dan, nil, true},
		{"an empty user name is refused", `C:\t.ps1`, consoleuser.User{}, nil, true},
		{"a user name that looks like a flag is refused", `C:\t.ps1`, consoleuser.User{Name: "/IT"}, nil, true},
		{"a user name with a quote is refused", `C:\t.ps1`, consoleuser.User{Name: `CORP\"x`}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			create, gotRun, err := ToastCommands(tt.user, tt.script)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr {
				return
			}
			if diff := cmp.Diff(tt.wantCreate, create); diff != "" {
				t.Errorf("create (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(run, gotRun); diff != "" {
				t.Errorf("run (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaultDir(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"the folder is under ProgramData", `C:\ProgramData`, `C:\ProgramData\Postern\notify`},
		{"a trailing backslash is not doubled", `D:\PD\`, `D:\PD\Postern\notify`},
		{"an unset ProgramData means the usual one", "", `C:\ProgramData\Postern\notify`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DefaultDir(tt.in); got != tt.want {
				t.Errorf("DefaultDir(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// scriptedRunner fails the calls whose program and first argument match
// a key of fail, and records every call.
type scriptedRunner struct {
	calls [][]string
	fail  map[string]error
}

func (s *scriptedRunner) Run(_ context.Context, p allowcmd.Program, args ...string) ([]byte, error) {
	s.calls = append(s.calls, append([]string{string(p)}, args...))
	key := string(p)
	if len(args) > 0 {
		key += " " + args[0]
	}
	return nil, s.fail[key]
}

func TestNotifyWindows(t *testing.T) {
	boom := errors.New("exit status 1")
	tests := []struct {
		name       string
		fail       map[string]error
		wantProgs  []string
		wantMethod string
		wantErr    bool
	}{
		{"the toast is created and started through schtasks", nil,
			[]string{"schtasks /Create", "schtasks /Run"}, "toast", false},
		{"msg.exe is used when the task cannot be created", map[string]error{"schtasks /Create": boom},
			[]string{"schtasks /Create", "msg console"}, "msg", false},
		{"msg.exe is used when the task cannot be started", map[string]error{"schtasks /Run": boom},
			[]string{"schtasks /Create", "schtasks /Run", "msg console"}, "msg", false},
		{"both failing is an error", map[string]error{"schtasks /Create": boom, "msg console": boom},
			[]string{"schtasks /Create", "msg console"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not t.TempDir: its long name could push the task command past
			// schtasks' limit when these tests run on Windows.
			dir, err := os.MkdirTemp("", "notify")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			sr := &scriptedRunner{fail: tt.fail}
			n := New(Config{GOOS: "windows", Run: sr, Dir: dir,
				Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
				ConsoleUser: func(context.Context) (consoleuser.User, error) { return dan, nil }})
			method, err := n.notify(context.Background(), hostile)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if method != tt.wantMethod {
				t.Errorf("method = %q, want %q", method, tt.wantMethod)
			}
			var progs []string
			for _, c := range sr.calls {
				progs = append(progs, c[0]+" "+c[1])
			}
			if diff := cmp.Diff(tt.wantProgs, progs); diff != "" {
				t.Errorf("programs run (-want +got):\n%s", diff)
			}
			if tr := sr.calls[0]; tr[0] == "schtasks" && !strings.HasSuffix(tr[5], filepath.Join(dir, ToastScriptName)) {
				t.Errorf("task runs %q, want the script in %s", tr[5], dir)
			}
			for _, c := range sr.calls {
				if c[0] == "schtasks" && strings.Contains(strings.Join(c, " "), "whoami") {
					t.Errorf("the body reached the schtasks command line: %q", c)
				}
			}
			script, err := os.ReadFile(filepath.Join(dir, ToastScriptName))
			if err != nil || string(script) != ToastScript {
				t.Errorf("script on disk differs from ToastScript (err %v)", err)
			}
			doc, err := os.ReadFile(filepath.Join(dir, ToastXMLName))
			if err != nil || string(doc) != string(ToastXML(Title, hostile)) {
				t.Errorf("toast XML on disk differs (err %v)", err)
			}
		})
	}
}

func TestWriteToastRefusesALinkedFolder(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "elsewhere")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "notify")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("cannot make a symlink here: %v", err)
	}
	if _, err := writeToast(link, Title, "x"); err == nil {
		t.Error("wrote through a linked folder")
	}
	if entries, _ := os.ReadDir(target); len(entries) != 0 {
		t.Errorf("files written into the link's target: %v", entries)
	}
}

func TestObserveLogsTheMethod(t *testing.T) {
	tests := []struct {
		name string
		fail map[string]error
		want string
	}{
		{"a toast is logged as such", nil, "method=toast"},
		{"the msg.exe fallback is logged as such", map[string]error{"schtasks /Create": errors.New("access denied")}, "method=msg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, err := os.MkdirTemp("", "notify")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			var logs strings.Builder
			n := New(Config{GOOS: "windows", Run: &scriptedRunner{fail: tt.fail}, Dir: dir,
				Logger:      slog.New(slog.NewTextHandler(&logs, nil)),
				ConsoleUser: func(context.Context) (consoleuser.User, error) { return dan, nil }})
			n.Observe(context.Background(), verdicts("screen_lock"))
			if !strings.Contains(logs.String(), `msg="notification shown"`) || !strings.Contains(logs.String(), tt.want) {
				t.Errorf("log lacks %q:\n%s", tt.want, logs.String())
			}
		})
	}
}
