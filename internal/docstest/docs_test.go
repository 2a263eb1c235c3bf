package docstest

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	servercli "github.com/postern-dev/postern/server/cli"
)

// root is the repository, two levels up.
var root = filepath.Join("..", "..")

// block is one fenced block of a Markdown file.
type block struct {
	file string
	line int // of the opening fence
	info []string
	body string
}

func (b block) lang() string {
	if len(b.info) == 0 {
		return ""
	}
	return b.info[0]
}

func (b block) illustrative() bool { return slices.Contains(b.info, "illustrative") }

// docs returns README.md and every Markdown file under docs/.
func docs(t *testing.T) []string {
	t.Helper()
	files := []string{filepath.Join(root, "README.md")}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// fenced returns the fenced blocks of a Markdown file. A fence may be
// indented (inside a list item); its body is unindented by as much.
func fenced(t *testing.T, path string) []block {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(root, path)
	var out []block
	var cur *block
	var indent string
	var body strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " \t")
		if cur == nil {
			if strings.HasPrefix(trimmed, "```") {
				indent = line[:len(line)-len(trimmed)]
				cur = &block{file: filepath.ToSlash(rel), line: n, info: strings.Fields(strings.TrimPrefix(trimmed, "```"))}
				body.Reset()
			}
			continue
		}
		if strings.TrimSpace(line) == "```" {
			cur.body = body.String()
			out = append(out, *cur)
			cur = nil
			continue
		}
		body.WriteString(strings.TrimPrefix(line, indent))
		body.WriteByte('\n')
	}
	if cur != nil {
		t.Errorf("%s:%d: the fence is never closed", rel, cur.line)
	}
	return out
}

// TestEveryBlockSaysWhatItIs: a block without an info string would escape
// both the runner and the checks below.
func TestEveryBlockSaysWhatItIs(t *testing.T) {
	for _, f := range docs(t) {
		for _, b := range fenced(t, f) {
			if b.lang() == "" {
				t.Errorf("%s:%d: give the block an info string: sh (run by this test), sh illustrative, yaml (a policy), text...", b.file, b.line)
			}
		}
	}
}

// TestYAMLExamplesArePolicies runs `postern-server policy check` on every
// YAML block not marked illustrative.
func TestYAMLExamplesArePolicies(t *testing.T) {
	for _, f := range docs(t) {
		for _, b := range fenced(t, f) {
			if b.lang() != "yaml" || b.illustrative() {
				continue
			}
			t.Run(b.file+":"+strconv.Itoa(b.line), func(t *testing.T) {
				p := filepath.Join(t.TempDir(), "policy.yaml")
				if err := os.WriteFile(p, []byte(b.body), 0o600); err != nil {
					t.Fatal(err)
				}
				var out, errb bytes.Buffer
				if code := servercli.Run(context.Background(), []string{"policy", "check", p}, &out, &errb, "docs"); code != 0 {
					t.Errorf("%s:%d: policy check exit %d: %s%s\n%s", b.file, b.line, code, out.String(), errb.String(), b.body)
				}
			})
		}
	}
}

// TestShellBlocksRunAsWritten runs every sh block not marked illustrative,
// in order within its file, with the binaries built from this tree.
func TestShellBlocksRunAsWritten(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the shell blocks are run by bash on Linux")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	var files [][]block
	for _, f := range docs(t) {
		var run []block
		for _, b := range fenced(t, f) {
			if (b.lang() == "sh" || b.lang() == "bash" || b.lang() == "shell") && !b.illustrative() {
				run = append(run, b)
			}
		}
		if len(run) > 0 {
			files = append(files, run)
		}
	}
	if len(files) == 0 {
		t.Fatal("no shell block is run: the harness would prove nothing")
	}
	bin := buildBinaries(t)
	for _, run := range files {
		t.Run(run[0].file, func(t *testing.T) {
			dir := t.TempDir()
			for _, b := range run {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				cmd := exec.CommandContext(ctx, bash, "-euo", "pipefail", "-c", b.body)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "HOME="+dir, "NO_COLOR=1")
				out, err := cmd.CombinedOutput()
				cancel()
				if err != nil {
					t.Errorf("%s:%d: %v\n--- block\n%s--- output\n%s", b.file, b.line, err, b.body, out)
					return
				}
				t.Logf("%s:%d:\n%s", b.file, b.line, out)
			}
		})
	}
}

// buildBinaries builds both binaries into a temporary directory.
func buildBinaries(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	for _, name := range []string{"postern-server", "postern-agent"} {
		pkg := "./" + strings.TrimPrefix(name, "postern-") + "/cmd/" + name
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, name), pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", name, err, out)
		}
	}
	return bin
}
