package browsercert

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/postern-dev/postern/agent/allowcmd"
	"github.com/postern-dev/postern/agent/internal/atomicfile"
	"github.com/postern-dev/postern/agent/internal/secdir"
	"github.com/postern-dev/postern/checks/consoleuser"
)

// Names of the Windows placement's parts.
const (
	// UserStoreTask is the Task Scheduler task that runs ImportScript in
	// the console user's session, where CurrentUser\My is that user's.
	UserStoreTask = `Postern\BrowserCert`
	// ImportScriptName is ImportScript's file name in the hand-over folder.
	ImportScriptName = "browsercert.ps1"
)

// ImportScript is the constant PowerShell script the task runs as the
// user: it removes the device's older certificates (with their keys) from
// CurrentUser\My and, unless -Remove is given, imports device.p12 with a
// non-exportable key; it then deletes the PKCS#12 file and its password
// whatever happened. The device ID and the file reach it only as files
// in -Dir, never as code.
const ImportScript = utf8BOM + `# Written by the Postern agent; run by the task Postern\BrowserCert as the console user.
param([Parameter(Mandatory = $true)][string]$Dir, [switch]$Remove)
$ErrorActionPreference = 'Stop'
$p12 = Join-Path -Path $Dir -ChildPath 'device.p12'
$pwFile = Join-Path -Path $Dir -ChildPath 'password'
try {
    $id = [System.IO.File]::ReadAllText((Join-Path -Path $Dir -ChildPath 'device-id')).Trim()
    Get-ChildItem -Path Cert:\CurrentUser\My | Where-Object { $_.Subject -ceq ('CN=' + $id) } | Remove-Item -DeleteKey
    if (-not $Remove) {
        $pw = ConvertTo-SecureString -String ([System.IO.File]::ReadAllText($pwFile).Trim()) -AsPlainText -Force
        Import-PfxCertificate -FilePath $p12 -CertStoreLocation Cert:\CurrentUser\My -Password $pw | Out-Null
    }
} finally {
    Remove-Item -LiteralPath $p12, $pwFile -Force -ErrorAction SilentlyContinue
}
`

const utf8BOM = "\xEF\xBB\xBF"

// maxTaskRun is schtasks' limit on /TR (262 characters, one in reserve).
const maxTaskRun = 261

// UserStore places the identity in the Windows console user's
// CurrentUser\My store through UserStoreTask. The hand-over folder is
// %ProgramData%\Postern\browsercert\<user SID>, readable by that user
// only (icacls); the script deletes the key material after the import.
// Compiled and unit-tested on Linux only.
type UserStore struct {
	Run allowcmd.Runner
	// Dir is the hand-over root (DefaultUserStoreDir when empty).
	Dir string
}

var _ Store = UserStore{}

// DefaultUserStoreDir is the hand-over root under programData.
func DefaultUserStoreDir(programData string) string {
	if programData == "" {
		programData = `C:\ProgramData`
	}
	return strings.TrimRight(programData, `\`) + `\Postern\browsercert`
}

// UserStoreCommands returns the command lines, in order, that restrict
// the user's hand-over folder (icacls), create the task that runs the
// script as u in u's session (/IT), and start it.
func UserStoreCommands(u consoleuser.User, script, userDir string, remove bool) (icacls, create, run []string, err error) {
	if err := checkWindowsUser(u); err != nil {
		return nil, nil, nil, err
	}
	ps, _ := allowcmd.Path("windows", allowcmd.PowerShell)
	for _, p := range []string{script, userDir} {
		if p == "" || strings.ContainsAny(p, "\"\r\n\t ") {
			return nil, nil, nil, fmt.Errorf("path %q: empty, or holds a space, quote or control character", p)
		}
	}
	tr := ps + ` -NoProfile -WindowStyle Hidden -ExecutionPolicy Bypass -File ` + script + ` -Dir ` + userDir
	if remove {
		tr += " -Remove"
	}
	if len(tr) > maxTaskRun {
		return nil, nil, nil, fmt.Errorf("task command is %d characters, schtasks takes at most %d", len(tr), maxTaskRun)
	}
	icacls = []string{userDir, "/inheritance:r", "/grant:r", "*S-1-5-18:(OI)(CI)F", "/grant:r", "*S-1-5-32-544:(OI)(CI)F", "/grant:r", "*" + u.ID + ":(OI)(CI)M"}
	create = []string{"/Create", "/TN", UserStoreTask, "/TR", tr, "/SC", "ONCE", "/ST", "00:00", "/RU", u.Name, "/IT", "/F"}
	run = []string{"/Run", "/TN", UserStoreTask}
	return icacls, create, run, nil
}

// checkWindowsUser refuses a user schtasks or icacls could misread.
func checkWindowsUser(u consoleuser.User) error {
	if u.Name == "" || len(u.Name) > 256 || u.Name[0] == '/' || u.Name[0] == '-' || strings.ContainsAny(u.Name, "\"\r\n\t") {
		return fmt.Errorf("console user name %q", u.Name)
	}
	if !strings.HasPrefix(u.ID, "S-1-5-21-") || strings.Trim(u.ID[len("S-1-5-21-"):], "0123456789-") != "" {
		return fmt.Errorf("console user SID %q: want a domain or local account's SID (S-1-5-21-...)", u.ID)
	}
	return nil
}

// Place hands the PKCS#12 file to the user's task, which imports it. A
// key in the Platform Crypto Provider is not exported: the service
// links the certificate in the user's store to it instead (cnglink.go).
func (s UserStore) Place(ctx context.Context, u consoleuser.User, id Identity) error {
	if err := id.Validate(); err != nil {
		return err
	}
	if err := checkWindowsUser(u); err != nil {
		return err
	}
	if _, ok := id.Key.Exportable(); !ok {
		ref := id.Key.Reference()
		if ref == "" {
			return ErrKeyNotExportable
		}
		return linkCNG(u, id, ref)
	}
	p12, password, err := exportPKCS12(id)
	if err != nil {
		return err
	}
	return s.start(ctx, u, id.DeviceID, map[string][]byte{"device.p12": p12, "password": []byte(password)}, false)
}

// Remove takes the certificates linked to a Platform Crypto Provider key
// out of the user's store from the service (the user's task could not
// delete such a key, nor should it), then has the user's task delete the
// device's imported certificates and keys.
func (s UserStore) Remove(ctx context.Context, u consoleuser.User, deviceID string) error {
	if err := checkWindowsUser(u); err != nil {
		return err
	}
	if err := unlinkCNG(u, deviceID); err != nil {
		return err
	}
	return s.start(ctx, u, deviceID, nil, true)
}

func (s UserStore) start(ctx context.Context, u consoleuser.User, deviceID string, files map[string][]byte, remove bool) error {
	if err := checkWindowsUser(u); err != nil {
		return err
	}
	root := s.Dir
	if root == "" {
		root = DefaultUserStoreDir(os.Getenv("ProgramData"))
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("create hand-over folder: %w", err)
	}
	// Only the agent writes the script the user's task runs.
	if err := secdir.Restrict(root, true); err != nil {
		return fmt.Errorf("secure hand-over folder: %w", err)
	}
	script := filepath.Join(root, ImportScriptName)
	if err := atomicfile.WriteFile(script, []byte(ImportScript), 0o644); err != nil {
		return fmt.Errorf("write import script: %w", err)
	}
	userDir := filepath.Join(root, u.ID)
	icacls, create, run, err := UserStoreCommands(u, script, userDir, remove)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(userDir, 0o700); err != nil {
		return fmt.Errorf("create hand-over folder: %w", err)
	}
	// The folder is the user's alone before any key material is in it.
	if _, err := s.Run.Run(ctx, allowcmd.Icacls, icacls...); err != nil {
		return fmt.Errorf("restrict hand-over folder: %w", err)
	}
	if files == nil {
		files = map[string][]byte{}
	}
	files["device-id"] = []byte(deviceID)
	for name, b := range files {
		if err := atomicfile.WriteFile(filepath.Join(userDir, name), b, 0o600); err != nil {
			return fmt.Errorf("hand over the certificate: %w", err)
		}
	}
	if _, err := s.Run.Run(ctx, allowcmd.Schtasks, create...); err != nil {
		return fmt.Errorf("create task: %w", err)
	}
	if _, err := s.Run.Run(ctx, allowcmd.Schtasks, run...); err != nil {
		return fmt.Errorf("run task: %w", err)
	}
	return nil
}
