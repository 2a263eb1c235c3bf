package ospatched

import (
	"time"

	"github.com/postern-dev/postern/checks/osdata"
)

// maxUpdates bounds the pending updates listed in the facts.
const maxUpdates = 50

// Facts is what the collector saw.
type Facts struct {
	// OS is the release and, on Windows, build.UBR compared with the
	// baseline.
	OS osdata.Identity `json:"os"`
	// OSError says why the release could not be read.
	OSError string `json:"os_error,omitempty"`
	// Pending is the result of the (possibly cached) search for updates
	// not yet installed; nil when it could not be run, PendingError says
	// why.
	Pending      *Pending `json:"pending,omitempty"`
	PendingError string   `json:"pending_error,omitempty"`
	// LastPatch is when updates were last installed.
	LastPatch *Stamp `json:"last_patch,omitempty"`
	// LastRefresh is when the update metadata was last refreshed (apt
	// lists, Windows Update's last successful search); a stale refresh
	// makes "nothing pending" meaningless.
	LastRefresh *Stamp `json:"last_refresh,omitempty"`
	// Notes explain sources that could not be read.
	Notes []string `json:"notes,omitempty"`
}

// Pending is one search for uninstalled updates.
type Pending struct {
	Source    string    `json:"source"`
	CheckedAt time.Time `json:"checked_at"`
	// Total counts every pending update, -1 when the source cannot tell.
	Total    int `json:"total"`
	Security int `json:"security"`
	// Updates lists the pending security updates (at most 50).
	Updates []Update `json:"updates,omitempty"`
	// LastSearch and LastInstall are the updater's own record of its last
	// successful search and install, when it keeps one (Windows Update).
	LastSearch  *time.Time `json:"last_search,omitempty"`
	LastInstall *time.Time `json:"last_install,omitempty"`
	// Incomplete says why the list may miss updates (a repository that
	// could not be loaded); an empty list is then no evidence.
	Incomplete string `json:"incomplete,omitempty"`
}

// Update is one pending security update.
type Update struct {
	Name     string `json:"name"`
	Version  string `json:"version,omitempty"`
	Origin   string `json:"origin,omitempty"`
	Severity string `json:"severity,omitempty"`
	// Released is when the vendor published it, when the source says.
	Released *time.Time `json:"released,omitempty"`
	// FirstSeen is when this agent first saw it pending.
	FirstSeen *time.Time `json:"first_seen,omitempty"`
}

// Stamp is a time with where it was read.
type Stamp struct {
	At     time.Time `json:"at"`
	Source string    `json:"source"`
}
