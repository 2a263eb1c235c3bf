package osautoupdate

import "time"

// Levels of automatic updating, from none to full.
const (
	LevelOff      = "off"      // nothing happens automatically
	LevelNotify   = "notify"   // the system checks and tells the user
	LevelDownload = "download" // updates are downloaded; the user installs
	LevelInstall  = "install"  // updates are installed automatically
	LevelUnknown  = "unknown"  // the mechanism's state could not be read
)

var levelRank = map[string]int{LevelUnknown: -1, LevelOff: 0, LevelNotify: 1, LevelDownload: 2, LevelInstall: 3}

// Facts is what the collector saw.
type Facts struct {
	// Mechanisms are the update mechanisms found, each with its level.
	Mechanisms []Mechanism `json:"mechanisms"`
	// Checked names what was looked for, so "none found" is explained.
	Checked []string `json:"checked,omitempty"`
}

// Mechanism is one automatic-update mechanism and its effective level.
type Mechanism struct {
	Name  string `json:"name"`
	Level string `json:"level"`
	// Weak marks indirect evidence (a desktop updater whose per-user
	// settings are not read) that never passes on its own.
	Weak bool `json:"weak,omitempty"`
	// Settings are the observed values that decided the level, by name,
	// each as "value (source)".
	Settings map[string]string `json:"settings,omitempty"`
	// PausedUntil is set when updates are paused (Windows); the evaluator
	// compares it with the time of evaluation.
	PausedUntil *time.Time `json:"paused_until,omitempty"`
	// Reason explains the level in a sentence.
	Reason string `json:"reason"`
}

func (m *Mechanism) set(name, value, source string) {
	if m.Settings == nil {
		m.Settings = map[string]string{}
	}
	m.Settings[name] = value + " (" + source + ")"
}
