package pkg

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeBinary writes a small stand-in for the agent.
func fakeBinary(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\necho postern-agent\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func need(t *testing.T, tool string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Skipf("%s is not installed", tool)
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, out)
	}
	return string(out)
}

func TestBuildLinux(t *testing.T) {
	bin := fakeBinary(t, "postern-agent")
	out := t.TempDir()
	t.Run("the deb holds the binary, the unit, /etc/postern and both scripts", func(t *testing.T) {
		need(t, "dpkg-deb")
		p, err := BuildLinux(LinuxOptions{Format: "deb", Arch: "amd64", Version: "v1.2.3", Binary: bin, OutDir: out})
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(p) != "postern-agent_1.2.3_amd64.deb" {
			t.Errorf("file name %s", filepath.Base(p))
		}
		list := run(t, "dpkg-deb", "-c", p)
		for _, want := range []string{
			"-rwxr-xr-x root/root", "./usr/bin/postern-agent",
			"./usr/lib/systemd/system/postern-agent.service", "drwx------ root/root", "./etc/postern/",
		} {
			if !strings.Contains(list, want) {
				t.Errorf("contents lack %q:\n%s", want, list)
			}
		}
		scripts := t.TempDir()
		run(t, "dpkg-deb", "-e", p, scripts)
		s, _ := LinuxScripts(DefaultPaths())
		for name, want := range map[string]string{"postinst": s.PostInstall, "prerm": s.PreRemove} {
			got, err := os.ReadFile(filepath.Join(scripts, name))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, string(got)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", name, diff)
			}
		}
	})
	t.Run("the deb holds the PKCS#11 module where the agent looks for it", func(t *testing.T) {
		need(t, "dpkg-deb")
		module := fakeBinary(t, "libpostern-pkcs11.so")
		dir := t.TempDir()
		p, err := BuildLinux(LinuxOptions{Format: "deb", Arch: "amd64", Version: "1.2.3", Binary: bin, OutDir: dir, PKCS11Module: module})
		if err != nil {
			t.Fatal(err)
		}
		list := run(t, "dpkg-deb", "-c", p)
		found := false
		for _, line := range strings.Split(list, "\n") {
			if strings.HasSuffix(line, "."+PKCS11ModulePath) {
				found = strings.HasPrefix(line, "-rw-r--r-- root/root")
			}
		}
		if !found {
			t.Errorf("contents lack the module, mode 0644 and root's:\n%s", list)
		}
	})
	t.Run("the rpm is written under its conventional name", func(t *testing.T) {
		p, err := BuildLinux(LinuxOptions{Format: "rpm", Arch: "arm64", Version: "1.2.3", Binary: bin, OutDir: out})
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(p) != "postern-agent-1.2.3-1.aarch64.rpm" {
			t.Errorf("file name %s", filepath.Base(p))
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 4 || string(b[:4]) != "\xed\xab\xee\xdb" {
			t.Error("not an rpm (lead magic missing)")
		}
		if _, err := exec.LookPath("rpm"); err == nil {
			list := run(t, "rpm", "-qlp", p)
			if !strings.Contains(list, "/usr/bin/postern-agent") {
				t.Errorf("rpm lacks the binary:\n%s", list)
			}
		}
	})
	t.Run("an unknown format is refused", func(t *testing.T) {
		if _, err := BuildLinux(LinuxOptions{Format: "apk", Arch: "amd64", Version: "1", Binary: bin, OutDir: out}); err == nil {
			t.Error("no error")
		}
	})
}

// msiTable returns one table of an MSI as exported by msiinfo.
func msiTable(t *testing.T, msi, table string) string {
	t.Helper()
	return run(t, "msiinfo", "export", msi, table)
}

func buildTestMSI(t *testing.T) string {
	t.Helper()
	need(t, "wixl")
	need(t, "msiinfo")
	msi := filepath.Join(t.TempDir(), "postern-agent.msi")
	if err := BuildMSI(context.Background(), MSIOptions{Exe: fakeBinary(t, "a.exe"), Version: "1.2.3", Output: msi}); err != nil {
		t.Fatal(err)
	}
	return msi
}

func TestBuildMSI(t *testing.T) {
	msi := buildTestMSI(t)
	tests := []struct {
		name, table string
		want        []string
	}{
		{"the executable is installed as postern-agent.exe", "File", []string{"AgentExe\tAgentExe\tpostern-agent.exe"}},
		{"the component lives under Program Files\\Postern", "Component", []string{"AgentExe\t{" + agentComponent + "}\tINSTALLDIR"}},
		{"the install directory is ProgramFiles64Folder\\Postern", "Directory", []string{"INSTALLDIR\tProgramFiles64Folder\tPostern"}},
		{"the service is installed by the agent, enrolling with SERVER and TOKEN, whose command line is never logged", "CustomAction", []string{
			"ServiceInstallEnroll\t11282\tAgentExe\tinstall --server \"[SERVER]\" --token \"[TOKEN]\"",
			"ServiceInstall\t3090\tAgentExe\tinstall",
			"ServiceUninstall\t3154\tAgentExe\tuninstall",
			"ServiceStop\t3154\tAgentExe\tstop",
			"TokenFromSecret\t51\tTOKEN\t[SECRET]",
		}},
		{"the secret is deleted once copied, the token once the install script has run", "CustomAction", []string{
			"ForgetSecret\t51\tSECRET\t\t", "ForgetToken\t51\tTOKEN\t\t", "ForgetTokenOnError\t51\tTOKEN\t\t",
		}},
		{"so neither is left for an engine that dumps every property into its log", "InstallExecuteSequence", []string{
			"ForgetSecret\tSECRET\t1002", "ForgetToken\tTOKEN\t6601", "ForgetTokenOnError\tTOKEN\t-3",
		}},
		{"every deferred action has a rollback that undoes it", "CustomAction", []string{
			"ServiceInstallRollback\t3410\tAgentExe\tuninstall",
			"ServiceStopRollback\t3410\tAgentExe\tstart",
			"ServiceUninstallRollback\t3410\tAgentExe\tinstall",
		}},
		{"the custom actions run inside the install script", "InstallExecuteSequence", []string{
			"ServiceInstallEnroll\tNOT REMOVE=\"ALL\" AND SERVER AND TOKEN\t",
			"ServiceUninstall\tREMOVE=\"ALL\" AND NOT UPGRADINGPRODUCTCODE\t",
			"RemoveExistingProducts\t\t",
		}},
		{"the token is hidden from the log and the product upgrades in place", "Property", []string{
			"MsiHiddenProperties\tTOKEN;SECRET", "UpgradeCode\t{" + UpgradeCode + "}", "ProductVersion\t1.2.3", "ALLUSERS\t1",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := msiTable(t, msi, tt.table)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%s lacks %q:\n%s", tt.table, w, got)
				}
			}
		})
	}
	t.Run("a version that is not three numbers is refused", func(t *testing.T) {
		if _, err := WXS("a.exe", "1.2"); err == nil {
			t.Error("no error")
		}
	})
}

func TestBuildDarwin(t *testing.T) {
	p, err := BuildDarwin(DarwinOptions{Version: "1.2.3", OutDir: t.TempDir(), Binaries: map[string]string{
		"amd64": fakeBinary(t, "x"), "arm64": fakeBinary(t, "y"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	bodies := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		names = append(names, h.Name)
		bodies[h.Name] = string(b)
	}
	top := "postern-agent_1.2.3_darwin/"
	want := []string{top + "dev.postern.agent.plist", top + "install.sh", top + "amd64/postern-agent", top + "arm64/postern-agent"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if bodies[top+"dev.postern.agent.plist"] != DarwinPlist() || !strings.Contains(DarwinPlist(), "/usr/local/bin/postern-agent") {
		t.Error("the plist is not the service's plist for /usr/local/bin")
	}
}

func TestNumericVersion(t *testing.T) {
	for in, want := range map[string]string{"v1.2.3": "1.2.3", "1.4": "1.4.0", "v2.0.1-3-gabc-dirty": "2.0.1", "0ec296f": "0.0.0", "7c99a0b": "0.0.0", "dev": "0.0.0"} {
		if got := NumericVersion(in); got != want {
			t.Errorf("NumericVersion(%q) = %q, want %q", in, got, want)
		}
	}
}
