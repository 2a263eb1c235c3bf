package docstest

import (
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

	"github.com/google/go-cmp/cmp"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"

	"github.com/postern-dev/postern/installer/pkg"
	servercli "github.com/postern-dev/postern/server/cli"
	"github.com/postern-dev/postern/server/serve"
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

// serverConfig marks a YAML block that is a server configuration file
// (```yaml server-config), not a policy.
func (b block) serverConfig() bool { return slices.Contains(b.info, "server-config") }

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

// fenced returns the fenced code blocks of a Markdown file as a CommonMark
// parser (goldmark) reads them: an indented code block, or a fence shown
// inside another block, is not one, and a block inside a list item loses
// the item's indentation.
func fenced(t *testing.T, path string) []block {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(root, path)
	var out []block
	doc := goldmark.New().Parser().Parse(text.NewReader(src))
	err = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		fb, ok := n.(*ast.FencedCodeBlock)
		if !ok || !entering {
			return ast.WalkContinue, nil
		}
		b := block{file: filepath.ToSlash(rel), line: fenceLine(src, fb)}
		if fb.Info != nil {
			b.info = strings.Fields(string(fb.Info.Segment.Value(src)))
		}
		var body strings.Builder
		for i := 0; i < fb.Lines().Len(); i++ {
			seg := fb.Lines().At(i)
			body.Write(seg.Value(src))
		}
		b.body = body.String()
		out = append(out, b)
		return ast.WalkSkipChildren, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fenceLine is the line of a block's opening fence: the line before its
// first line of content (or of its info string, for an empty block).
func fenceLine(src []byte, fb *ast.FencedCodeBlock) int {
	switch {
	case fb.Lines().Len() > 0:
		return bytes.Count(src[:fb.Lines().At(0).Start], []byte("\n"))
	case fb.Info != nil:
		return bytes.Count(src[:fb.Info.Segment.Start], []byte("\n")) + 1
	}
	return 0
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
			if b.lang() != "yaml" || b.illustrative() || b.serverConfig() {
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

// TestServerConfigExamplesLoad reads every ```yaml server-config block
// as `postern-server serve --config` does, strictly, and validates it.
func TestServerConfigExamplesLoad(t *testing.T) {
	for _, f := range docs(t) {
		for _, b := range fenced(t, f) {
			if b.lang() != "yaml" || !b.serverConfig() {
				continue
			}
			t.Run(b.file+":"+strconv.Itoa(b.line), func(t *testing.T) {
				p := filepath.Join(t.TempDir(), "postern.yaml")
				if err := os.WriteFile(p, []byte(b.body), 0o600); err != nil {
					t.Fatal(err)
				}
				cfg, err := serve.LoadConfigFile(p)
				if err == nil {
					err = cfg.Validate()
				}
				if err != nil {
					t.Errorf("%s:%d: %v\n%s", b.file, b.line, err, b.body)
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

func TestOnlyFencedBlocksCount(t *testing.T) {
	got := fenced(t, filepath.Join("testdata", "fences.md"))
	for i := range got {
		got[i].file = ""
	}
	want := []block{
		{line: 7, info: []string{"markdown"}, body: "```sh\nshown inside a longer fence\n```\n"},
		{line: 15, info: []string{"sh"}, body: "echo from the list\n"},
		{line: 19, info: []string{"yaml"}, body: "tilde: fence\n"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(block{})); diff != "" {
		t.Errorf("blocks (-want +got):\n%s", diff)
	}
}

// TestSystemdDropInsVerify applies every ```ini systemd-dropin block to
// the unit the server package installs, as systemd merges a drop-in's
// [Service] lines into the unit's, and runs `systemd-analyze verify` on
// the result. The package's /usr/bin/postern-server is replaced by a
// stand-in file so that verify finds an executable.
func TestSystemdDropInsVerify(t *testing.T) {
	var drops []block
	for _, f := range docs(t) {
		for _, b := range fenced(t, f) {
			if b.lang() == "ini" && slices.Contains(b.info, "systemd-dropin") {
				drops = append(drops, b)
			}
		}
	}
	if len(drops) == 0 {
		t.Fatal("no ```ini systemd-dropin block: docs/deploy-linux.md shows one")
	}
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze is needed (apt-get install systemd): ", err)
	}
	for _, b := range drops {
		t.Run(b.file+":"+strconv.Itoa(b.line), func(t *testing.T) {
			dir := t.TempDir()
			exe := filepath.Join(dir, "postern-server")
			if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			_, service, ok := strings.Cut(b.body, "[Service]\n")
			if !ok {
				t.Fatalf("%s:%d: a drop-in for the server's unit has a [Service] section", b.file, b.line)
			}
			unit := strings.Replace(pkg.ServerSystemdUnit(), "\n[Install]", "\n"+service+"\n[Install]", 1)
			unit = strings.ReplaceAll(unit, "/usr/bin/postern-server", exe)
			p := filepath.Join(dir, "postern-server.service")
			if err := os.WriteFile(p, []byte(unit), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(sa, "verify", p).CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != "" {
				t.Errorf("%s:%d: systemd-analyze verify: %v\n%s\nunit:\n%s", b.file, b.line, err, out, unit)
			}
		})
	}
}
