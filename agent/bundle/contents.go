package bundle

import (
	"fmt"
	"strings"
)

// Entry is one line of what a bundle holds, leaves out or reveals.
type Entry struct {
	// What is the thing, as a user would name it.
	What string
	// How says what the bundle does with it.
	How string
}

// Holds lists the parts of a bundle.
var Holds = []Entry{
	{"manifest.json, files/, commands/", "a snapshot of one check of this device: every answer the checks got from the machine (files read, commands run with their exact output, registry values, WMI rows), re-checked anywhere with postern-agent check --replay FILE"},
	{StatusFile, "the agent's status: device ID, server address, certificate SHA-256, last report and acknowledgement, spool counts, last error, service state"},
	{CheckFile, "the verdicts of the check in this bundle"},
	{ReadmeFile, "these lists, for whoever opens the bundle"},
}

// NeverIncluded are the agent's secrets and state files a bundle never
// holds: it is written from a recording and two JSON documents, never
// from the state directory.
var NeverIncluded = []string{
	"the device key, certificates' private parts and the enrollment token",
	"the policy the server pushed and every other state file",
	"files' contents beyond the settings the checks read, documents, e-mail, browsing history, keystrokes, screenshots and location",
}

// Redactions are what the redacting host (Redact) changes while the
// bundle's check is recorded. Each entry is done by one case of redactor
// and tested in redact_test.go and redact_wifi_test.go; the checks
// classify every stand-in as they classified the original, so a replay
// gives the same verdicts.
var Redactions = []Entry{
	{"password hashes in /etc/shadow and /etc/gshadow", "each hash becomes $redacted$; account names, ages and the lock markers ! and * are kept"},
	{"macOS account records", "only name, uid, shell, authentication_authority and generateduid are kept; a password hash becomes the hash of a random password (the hash of an empty password is kept: it reveals nothing and is what the check looks for)"},
	{"the macOS automatic-login password (/etc/kcpassword) and Windows' Winlogon DefaultPassword", "replaced by \"redacted\""},
	{"a desktop session's environment (/proc/PID/environ, read by screen_lock to find KDE's configuration directories)", "only XDG_CONFIG_DIRS and XDG_CONFIG_HOME are kept"},
	{"Wi-Fi network names and access point addresses", "replaced by \"" + redactedName + "\" in the Wi-Fi tools' output (netsh wlan show interfaces: the SSID, BSSID and profile lines, UTF-16 kept; wpa_cli status: ssid= and bssid=; system_profiler SPAirPortDataType: the current network's name, and the list of nearby networks is emptied); iwd's network object paths, which spell the name in hex, get a stand-in"},
}

// Replays is why the redactions cost nothing when the bundle is checked
// again.
const Replays = "The checks classify every stand-in as they classified the original, so a replay gives the same verdicts."

// Reveals is what the raw output in a bundle can still show.
var Reveals = "the host name, local account names, installed security products and their versions, network interface names and VPN profile names"

// Summary is the bundle paragraph of the agent's privacy note, made from
// the lists above so that the note cannot say something the bundle does
// not do.
func Summary() string {
	var b strings.Builder
	b.WriteString(wrap("", "", `A support bundle ("postern-agent bundle -o FILE") is made only when you run it and stays on this device until you hand it over. It holds:`, 76))
	for _, e := range Holds {
		item(&b, e.What+": "+e.How)
	}
	b.WriteString("Before anything is written, the recording removes:\n")
	for _, e := range Redactions {
		item(&b, e.What+": "+e.How)
	}
	b.WriteString("It never holds:\n")
	for _, s := range NeverIncluded {
		item(&b, s)
	}
	b.WriteString(wrap("", "", "Its raw command output can still show "+Reveals+".", 76))
	return b.String()
}

// Markdown is the part of docs/bundle.md that says what a bundle holds,
// removes, never holds and can reveal, made from the same lists as
// Summary (TestBundleDocIsMadeFromTheLists keeps the file equal to it).
func Markdown() string {
	var b strings.Builder
	b.WriteString("## Content\n\n| entry | what it is |\n| --- | --- |\n")
	for _, e := range Holds {
		names := strings.Split(e.What, ", ")
		for i, n := range names {
			names[i] = "`" + n + "`"
		}
		fmt.Fprintf(&b, "| %s | %s |\n", strings.Join(names, ", "), e.How)
	}
	b.WriteString("\n## What the recording removes\n\nBefore anything is written:\n\n")
	for i, e := range Redactions {
		b.WriteString(wrap("- ", "  ", e.What+": "+e.How+endItem(i, len(Redactions)), 76))
	}
	b.WriteString("\n" + wrap("", "", Replays, 76))
	b.WriteString("\n## What is never in a bundle\n\n")
	for i, s := range NeverIncluded {
		b.WriteString(wrap("- ", "  ", s+endItem(i, len(NeverIncluded)), 76))
	}
	b.WriteString("\n## What a bundle can reveal\n\n")
	b.WriteString(wrap("", "", "Its raw command output can still show "+Reveals+".", 76))
	return b.String()
}

// endItem ends the i-th of n list items.
func endItem(i, n int) string {
	if i == n-1 {
		return "."
	}
	return ";"
}

func item(b *strings.Builder, s string) { b.WriteString(wrap("  - ", "    ", s, 76)) }

// wrap writes s after first, in lines of at most width runes (a longer
// word stays whole), indenting every line after the first.
func wrap(first, indent, s string, width int) string {
	var b strings.Builder
	b.WriteString(first)
	line := len(first)
	for i, w := range strings.Fields(s) {
		switch {
		case i > 0 && line+1+len([]rune(w)) > width:
			b.WriteString("\n" + indent)
			line = len(indent)
		case i > 0:
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += len([]rune(w))
	}
	return b.String() + "\n"
}
