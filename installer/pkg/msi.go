package pkg

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"time"
)

// MSI identifiers. UpgradeCode is the product family: it never changes,
// so that every new MSI upgrades the installed one in place.
const (
	UpgradeCode    = "6F4B3C1E-2A57-4E0B-9C1D-5D2B7A8E4F10"
	agentComponent = "8C2E5A71-3F0D-4B6A-A9E4-1D7C2B9F6E35"
)

// wixlTimeout bounds one wixl run.
const wixlTimeout = 2 * time.Minute

// MSIOptions describe the Windows installer.
type MSIOptions struct {
	// Exe is the (signed, if signing) windows/amd64 postern-agent.exe.
	Exe string
	// Version is the ProductVersion, three dotted numbers.
	Version string
	// Output is the .msi to write.
	Output string
	// Wixl is the wixl executable; "wixl" on PATH when empty.
	Wixl string
	// Msibuild is msitools' msibuild; "msibuild" on PATH when empty.
	Msibuild string
}

// WXS renders the WiX source that wixl compiles. wixl implements
// ServiceInstall and ServiceControl but not the failure actions
// (ServiceConfig, MsiServiceConfigFailureActions), so the service is
// registered by deferred custom actions that run the agent's own
// `install` (kardianos: automatic delayed start, restart on failure) and
// `uninstall`. Each of them has a rollback action scheduled just before
// it (rollback bits are set after wixl, see fixCustomActions), so a failed
// install, upgrade or removal leaves the machine as it was. The agent's
// install never contacts the server: it keeps an existing device identity
// or leaves SERVER and TOKEN (or SECRET, a reusable enrollment secret) to
// the service, which enrolls when it can; an unreachable server or a
// refused secret never fails the install. TOKEN and SECRET are in
// MsiHiddenProperties and the enrolling action hides its command line, so
// Windows logs neither. Wine's msiexec ignores MsiHiddenProperties and
// dumps every property left at the end of the session into a /l*v log: so
// SECRET is moved into TOKEN at once (ForgetSecret), and TOKEN is deleted
// once the install script has run (its deferred actions were formatted
// when it was written): after InstallFinalize, and on the error exit
// (sequence -3, set after wixl, which has no OnExit). exe is the executable's path relative to wixl's
// working directory.
func WXS(exe, version string) (string, error) {
	if NumericVersion(version) != version {
		return "", fmt.Errorf("msi version %q: want three dotted numbers", version)
	}
	var b bytes.Buffer
	err := wxsTmpl.Execute(&b, map[string]string{
		"Exe": exe, "Version": version, "UpgradeCode": UpgradeCode, "Component": agentComponent,
		"Name": PackageName, "Manufacturer": Vendor,
	})
	if err != nil {
		return "", fmt.Errorf("render wxs: %w", err)
	}
	return b.String(), nil
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

var wxsTmpl = template.Must(template.New("wxs").Funcs(template.FuncMap{"x": xmlEscape}).Parse(`<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="*" Name="Postern Agent" Language="1033" Version="{{.Version}}" Manufacturer="{{.Manufacturer}}" UpgradeCode="{{.UpgradeCode}}">
    <Package InstallerVersion="500" Compressed="yes" InstallScope="perMachine" Manufacturer="{{.Manufacturer}}" Description="Postern device-posture agent"/>
    <Media Id="1" Cabinet="agent.cab" EmbedCab="yes"/>
    <MajorUpgrade DowngradeErrorMessage="A newer Postern Agent is already installed."/>

    <Property Id="MsiHiddenProperties" Value="TOKEN;SECRET"/>
    <Property Id="ARPNOMODIFY" Value="1"/>

    <Directory Id="TARGETDIR" Name="SourceDir">
      <Directory Id="ProgramFiles64Folder">
        <Directory Id="INSTALLDIR" Name="Postern">
          <Component Id="AgentExe" Guid="{{.Component}}" Win64="yes">
            <File Id="AgentExe" Name="{{.Name}}.exe" Source="{{x .Exe}}" KeyPath="yes"/>
          </Component>
        </Directory>
      </Directory>
    </Directory>

    <Feature Id="Agent" Title="Postern Agent" Level="1">
      <ComponentRef Id="AgentExe"/>
    </Feature>

    <CustomAction Id="TokenFromSecret" Property="TOKEN" Value="[SECRET]"/>
    <CustomAction Id="ServiceInstallEnroll" FileKey="AgentExe" ExeCommand="install --server &quot;[SERVER]&quot; --token &quot;[TOKEN]&quot;" Execute="deferred" Impersonate="no" Return="check"/>
    <CustomAction Id="ServiceInstall" FileKey="AgentExe" ExeCommand="install" Execute="deferred" Impersonate="no" Return="check"/>
    <CustomAction Id="ServiceInstallRollback" FileKey="AgentExe" ExeCommand="uninstall" Execute="deferred" Impersonate="no" Return="ignore"/>
    <CustomAction Id="ServiceStop" FileKey="AgentExe" ExeCommand="stop" Execute="deferred" Impersonate="no" Return="ignore"/>
    <CustomAction Id="ServiceStopRollback" FileKey="AgentExe" ExeCommand="start" Execute="deferred" Impersonate="no" Return="ignore"/>
    <CustomAction Id="ServiceUninstall" FileKey="AgentExe" ExeCommand="uninstall" Execute="deferred" Impersonate="no" Return="ignore"/>
    <CustomAction Id="ServiceUninstallRollback" FileKey="AgentExe" ExeCommand="install" Execute="deferred" Impersonate="no" Return="ignore"/>
    <CustomAction Id="ForgetSecret" Property="SECRET" Value=""/>
    <CustomAction Id="ForgetToken" Property="TOKEN" Value=""/>
    <CustomAction Id="ForgetTokenOnError" Property="TOKEN" Value=""/>

    <InstallExecuteSequence>
      <Custom Action="TokenFromSecret" After="CostFinalize">SECRET AND NOT TOKEN</Custom>
      <Custom Action="ForgetSecret" After="TokenFromSecret">SECRET</Custom>
      <RemoveExistingProducts After="InstallInitialize"/>
      <Custom Action="ServiceStopRollback" After="RemoveExistingProducts">REMOVE="ALL" AND UPGRADINGPRODUCTCODE</Custom>
      <Custom Action="ServiceStop" After="ServiceStopRollback">REMOVE="ALL" AND UPGRADINGPRODUCTCODE</Custom>
      <Custom Action="ServiceUninstallRollback" After="ServiceStop">REMOVE="ALL" AND NOT UPGRADINGPRODUCTCODE</Custom>
      <Custom Action="ServiceUninstall" After="ServiceUninstallRollback">REMOVE="ALL" AND NOT UPGRADINGPRODUCTCODE</Custom>
      <Custom Action="ServiceInstallRollback" After="InstallFiles">NOT REMOVE="ALL" AND NOT WIX_UPGRADE_DETECTED</Custom>
      <Custom Action="ServiceInstallEnroll" After="ServiceInstallRollback">NOT REMOVE="ALL" AND SERVER AND TOKEN</Custom>
      <Custom Action="ServiceInstall" After="ServiceInstallEnroll">NOT REMOVE="ALL" AND NOT (SERVER AND TOKEN)</Custom>
      <Custom Action="ForgetToken" After="InstallFinalize">TOKEN</Custom>
      <Custom Action="ForgetTokenOnError" After="ForgetToken">TOKEN</Custom>
    </InstallExecuteSequence>
  </Product>
</Wix>
`))

// BuildMSI renders the WiX source and compiles it with wixl.
func BuildMSI(ctx context.Context, o MSIOptions) error {
	if o.Exe == "" || o.Output == "" {
		return errors.New("msi: executable and output are required")
	}
	exe, err := filepath.Abs(o.Exe)
	if err != nil {
		return fmt.Errorf("msi: %w", err)
	}
	if _, err := os.Stat(exe); err != nil {
		return fmt.Errorf("msi executable: %w", err)
	}
	// wixl reads File sources relative to the working directory only.
	wxs, err := WXS(PackageName+".exe", o.Version)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "postern-msi-")
	if err != nil {
		return fmt.Errorf("msi: %w", err)
	}
	defer os.RemoveAll(work)
	if err := copyFile(exe, filepath.Join(work, PackageName+".exe"), 0o644); err != nil {
		return fmt.Errorf("msi: %w", err)
	}
	src := filepath.Join(work, "postern-agent.wxs")
	if err := os.WriteFile(src, []byte(wxs), 0o644); err != nil {
		return fmt.Errorf("msi: %w", err)
	}
	wixl := o.Wixl
	if wixl == "" {
		wixl = "wixl"
	}
	if err := os.MkdirAll(filepath.Dir(o.Output), 0o755); err != nil {
		return fmt.Errorf("msi: %w", err)
	}
	tmp := filepath.Join(work, "out.msi")
	ctx, cancel := context.WithTimeout(ctx, wixlTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, wixl, "--arch", "x64", "-o", tmp, src)
	cmd.Dir = work
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("wixl: %w: %s", err, bytes.TrimSpace(out))
	}
	if err := fixCustomActions(ctx, o.Msibuild, tmp); err != nil {
		return err
	}
	return copyFile(tmp, o.Output, 0o644)
}

// Custom action type bits (MSI CustomAction table) that wixl 0.101 does
// not write: it drops Execute="rollback" and HideTarget="yes".
const (
	caExe           = 18   // an executable from the File table
	caContinue      = 64   // Return="ignore"
	caRollback      = 256  // runs only when the installation rolls back
	caInScript      = 1024 // deferred
	caNoImpersonate = 2048 // as LocalSystem
	caHideTarget    = 8192 // the command line (with TOKEN) is not logged
)

// customActionTypes are the types wixl gets wrong, set after it runs.
var customActionTypes = map[string]int{
	"TokenFromSecret":          51, // set a property, immediate
	"ServiceInstallEnroll":     caExe | caInScript | caNoImpersonate | caHideTarget,
	"ServiceInstallRollback":   caExe | caContinue | caRollback | caInScript | caNoImpersonate,
	"ServiceStopRollback":      caExe | caContinue | caRollback | caInScript | caNoImpersonate,
	"ServiceUninstallRollback": caExe | caContinue | caRollback | caInScript | caNoImpersonate,
	// Setting an empty value deletes the property.
	"ForgetSecret":       51,
	"ForgetToken":        51,
	"ForgetTokenOnError": 51,
}

// errorExitActions run when the installation ends in an error: the
// sequence's -3 slot (WiX's OnExit="error", which wixl lacks), which
// holds one action.
var errorExitActions = []string{"ForgetTokenOnError"}

// fixCustomActions sets the rollback and hidden-target bits with msibuild
// (msitools), so that every deferred action that changes the machine has
// a rollback and the enrollment secret stays out of the installer's log.
func fixCustomActions(ctx context.Context, msibuild, msi string) error {
	if msibuild == "" {
		msibuild = "msibuild"
	}
	names := make([]string, 0, len(customActionTypes))
	for n := range customActionTypes {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		q := fmt.Sprintf("UPDATE `CustomAction` SET `Type` = %d WHERE `Action` = '%s'", customActionTypes[n], n)
		if out, err := exec.CommandContext(ctx, msibuild, msi, "-q", q).CombinedOutput(); err != nil {
			return fmt.Errorf("msibuild: set the type of %s: %w: %s", n, err, bytes.TrimSpace(out))
		}
	}
	for _, n := range errorExitActions {
		q := fmt.Sprintf("UPDATE `InstallExecuteSequence` SET `Sequence` = -3 WHERE `Action` = '%s'", n)
		if out, err := exec.CommandContext(ctx, msibuild, msi, "-q", q).CombinedOutput(); err != nil {
			return fmt.Errorf("msibuild: run %s on the error exit: %w: %s", n, err, bytes.TrimSpace(out))
		}
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	return nil
}
