package cmdutil

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func tree() (*cobra.Command, *bytes.Buffer) {
	root := &cobra.Command{Use: "tool", SilenceErrors: true, SilenceUsage: true}
	grp := &cobra.Command{Use: "grp"}
	var n int
	leaf := &cobra.Command{Use: "leaf ID", Args: cobra.ExactArgs(1), RunE: func(*cobra.Command, []string) error { return nil }}
	leaf.Flags().IntVar(&n, "n", 0, "")
	fail := &cobra.Command{Use: "fail", Args: cobra.NoArgs, RunE: func(*cobra.Command, []string) error { return errors.New("it broke") }}
	req := &cobra.Command{Use: "req", Args: cobra.NoArgs, RunE: func(*cobra.Command, []string) error { return nil }}
	req.Flags().String("name", "", "")
	req.MarkFlagRequired("name")
	grp.AddCommand(leaf, fail, req)
	root.AddCommand(grp)
	Setup(root, "1.2.3")
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	return root, &out
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"a command that succeeds exits 0", []string{"grp", "leaf", "x"}, ExitOK},
		{"a command that fails exits 1", []string{"grp", "fail"}, ExitFailure},
		{"an unknown command exits 2", []string{"frobnicate"}, ExitUsage},
		{"an unknown subcommand exits 2", []string{"grp", "frobnicate"}, ExitUsage},
		{"an unknown flag exits 2", []string{"grp", "leaf", "x", "--bogus"}, ExitUsage},
		{"a bad flag value exits 2", []string{"grp", "leaf", "x", "--n", "many"}, ExitUsage},
		{"a missing argument exits 2", []string{"grp", "leaf"}, ExitUsage},
		{"an extra argument exits 2", []string{"grp", "fail", "x"}, ExitUsage},
		{"a missing required flag exits 2", []string{"grp", "req"}, ExitUsage},
		{"--version exits 0", []string{"--version"}, ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, _ := tree()
			root.SetArgs(tt.args)
			if got := ExitCode(root.Execute()); got != tt.want {
				t.Errorf("exit %d, want %d", got, tt.want)
			}
		})
	}
}

func TestVersionFlagPrintsNameAndVersion(t *testing.T) {
	root, out := tree()
	root.SetArgs([]string{"--version"})
	if err := root.Execute(); err != nil || out.String() != "tool 1.2.3\n" {
		t.Errorf("err %v, output %q", err, out.String())
	}
}

func TestWriteJSONKeepsAngleBracketsAndAmpersands(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, map[string]string{"reason": "<b>R&D</b>"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"<b>R&D</b>"`) {
		t.Errorf("got %s", b.String())
	}
}

func TestCreateOutputRefusesToOverwriteWithoutForce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.tar.gz")
	if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := CreateOutput(path, false, 0o600); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("err = %v, want a refusal naming --force", err)
	}
	if err := RefuseOverwrite(path, false); err == nil {
		t.Fatal("RefuseOverwrite accepted an existing file")
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Errorf("the file was changed: %q", b)
	}
	f, err := CreateOutput(path, true, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := RefuseOverwrite(filepath.Join(t.TempDir(), "new"), false); err != nil {
		t.Errorf("a new file is refused: %v", err)
	}
}
