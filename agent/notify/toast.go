package notify

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/postern-dev/postern/agent/allowcmd"
	"github.com/postern-dev/postern/agent/internal/atomicfile"
	"github.com/postern-dev/postern/agent/internal/secdir"
	"github.com/postern-dev/postern/checks/consoleuser"
)

// Names of the Windows toast's parts.
const (
	// TaskName is the Task Scheduler task that runs ToastScript as the
	// console user; each notification replaces it.
	TaskName = `Postern\Notify`
	// ToastScriptName is ToastScript's file name in the notify folder.
	ToastScriptName = "toast.ps1"
	// ToastXMLName is the toast document's file name, next to the script,
	// which reads it by that name.
	ToastXMLName = "toast.xml"
	// AppID is the AppUserModelID the toast is shown under: Windows
	// PowerShell's own, registered on every Windows 10 and 11, so the
	// agent needs no Start menu shortcut of its own.
	AppID = `{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}\WindowsPowerShell\v1.0\powershell.exe`
)

// maxTaskRun is schtasks' limit on /TR; Microsoft documents 262
// characters, one is kept in reserve.
const maxTaskRun = 261

// utf8BOM makes Windows PowerShell 5.1 read the script as UTF-8, not as
// the ANSI code page.
const utf8BOM = "\xEF\xBB\xBF"

// ToastScript is the PowerShell script the task runs. It is constant:
// the title and body reach the toast only as the text of ToastXMLName,
// parsed as XML, so nothing a control reports can become PowerShell code.
const ToastScript = utf8BOM + `# Written by the Postern agent and replaced before each notification.
# Shows the toast described by toast.xml, next to this script.
$ErrorActionPreference = 'Stop'
$null = [Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, ContentType = WindowsRuntime]
$null = [Windows.Data.Xml.Dom.XmlDocument, Windows.Data.Xml.Dom.XmlDocument, ContentType = WindowsRuntime]
$path = Join-Path -Path $PSScriptRoot -ChildPath 'toast.xml'
$doc = New-Object -TypeName Windows.Data.Xml.Dom.XmlDocument
$doc.LoadXml([System.IO.File]::ReadAllText($path, [System.Text.Encoding]::UTF8))
$toast = New-Object -TypeName Windows.UI.Notifications.ToastNotification -ArgumentList $doc
$appID = '` + AppID + `'
[Windows.UI.Notifications.ToastNotificationManager]::CreateToastNotifier($appID).Show($toast)
`

// ToastXML returns the toast document: a ToastGeneric binding with the
// title and the body, both escaped as XML text (characters XML cannot
// hold become U+FFFD).
func ToastXML(title, body string) []byte {
	var b bytes.Buffer
	b.WriteString(`<toast scenario="reminder"><visual><binding template="ToastGeneric"><text>`)
	_ = xml.EscapeText(&b, []byte(title)) // a bytes.Buffer does not fail
	b.WriteString(`</text><text>`)
	_ = xml.EscapeText(&b, []byte(body))
	b.WriteString(`</text></binding></visual><actions><action content="" arguments="dismiss" activationType="system"/></actions></toast>`)
	return b.Bytes()
}

// DefaultDir is the notify folder under programData (the value of
// %ProgramData%, C:\ProgramData when empty).
func DefaultDir(programData string) string {
	if programData == "" {
		programData = `C:\ProgramData`
	}
	return strings.TrimRight(programData, `\`) + `\Postern\notify`
}

// ToastCommands returns the arguments of the two schtasks runs that show
// the toast: create (or replace) a task that runs the script at
// scriptPath as u only while u is signed in (/IT), then start it now. The
// 00:00 start time is a placeholder; the task only ever runs on /Run.
func ToastCommands(u consoleuser.User, scriptPath string) (create, run []string, err error) {
	if err := checkWindowsUser(u.Name); err != nil {
		return nil, nil, err
	}
	ps, err := allowcmd.Path("windows", allowcmd.PowerShell)
	if err != nil {
		return nil, nil, err
	}
	if strings.ContainsAny(scriptPath, "\"\r\n\t") || scriptPath == "" {
		return nil, nil, fmt.Errorf("toast script path %q: empty or holds a quote or control character", scriptPath)
	}
	if strings.ContainsRune(scriptPath, ' ') {
		scriptPath = `"` + scriptPath + `"`
	}
	tr := ps + ` -NoProfile -WindowStyle Hidden -ExecutionPolicy Bypass -File ` + scriptPath
	if len(tr) > maxTaskRun {
		return nil, nil, fmt.Errorf("toast task command is %d characters, schtasks takes at most %d", len(tr), maxTaskRun)
	}
	create = []string{"/Create", "/TN", TaskName, "/TR", tr, "/SC", "ONCE", "/ST", "00:00", "/RU", u.Name, "/IT", "/F"}
	run = []string{"/Run", "/TN", TaskName}
	return create, run, nil
}

// checkWindowsUser refuses a console user name schtasks could misread.
func checkWindowsUser(name string) error {
	if name == "" || len(name) > 256 {
		return fmt.Errorf("console user name %q: want 1 to 256 characters", name)
	}
	if name[0] == '/' || name[0] == '-' {
		return fmt.Errorf("console user name %q: must not start like a flag", name)
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f || c == '"' {
			return fmt.Errorf("console user name %q: holds a quote or control character", name)
		}
	}
	return nil
}

// writeToast writes the script and the toast document into dir and
// returns the script's path. dir must be a real folder, not a link a
// local user planted to redirect the writes.
func writeToast(dir, title, body string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create notify folder: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", fmt.Errorf("stat notify folder: %w", err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("notify folder %s is not a plain folder (mode %s)", dir, fi.Mode())
	}
	// Only the agent may write the script the user's task runs; local users
	// may read it. A folder someone else created first is refused.
	if err := secdir.Restrict(dir, true); err != nil {
		return "", fmt.Errorf("secure notify folder: %w", err)
	}
	// The console user's task reads both files, so they are world-readable;
	// they hold nothing secret, only the text the user is about to see.
	// Written whole through a rename, so the task never reads half a file.
	if err := atomicfile.WriteFile(filepath.Join(dir, ToastXMLName), ToastXML(title, body), 0o644); err != nil {
		return "", fmt.Errorf("write toast xml: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ToastScriptName), []byte(ToastScript), 0o644); err != nil {
		return "", fmt.Errorf("write toast script: %w", err)
	}
	return filepath.Join(dir, ToastScriptName), nil
}
