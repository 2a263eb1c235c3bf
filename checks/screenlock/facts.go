package screenlock

// Facts is what the collector saw on the machine.
type Facts struct {
	// Platform is whose settings were read: "windows", "macos", "gnome",
	// "kde", or the Linux desktop's own name when it is not supported.
	Platform string `json:"platform"`
	// User is the console user whose settings apply ("" when none).
	User string `json:"user,omitempty"`
	// NotApplicable, when set, says why the machine has no screen to lock
	// (no graphical session on Linux).
	NotApplicable string `json:"not_applicable,omitempty"`
	// UserSettingsUnread says why the console user's own settings could not
	// be read; machine-wide routes may still decide the control.
	UserSettingsUnread string `json:"user_settings_unread,omitempty"`
	// SessionEnvUnread says why the desktop session's environment, which
	// chooses the files its settings are read from (DCONF_PROFILE,
	// XDG_CONFIG_HOME, XDG_CONFIG_DIRS), could not be read, with what to
	// do. The settings then come from the default places, which may not
	// be the session's: they can fail the control but never pass it.
	SessionEnvUnread string `json:"session_env_unread,omitempty"`
	// HasBattery is false when the machine has no battery, so settings for
	// battery power do not apply; nil when not known.
	HasBattery *bool `json:"has_battery,omitempty"`
	// ResumeUnlocked, when set, says why waking the machine from suspend
	// does not ask for the password (GNOME's lock on suspend, KDE's
	// LockOnResume). The policy requires a lock whenever the machine is
	// left, and a lid closed unlocked is left unlocked, so Evaluate fails
	// such a machine even when its idle lock is within the limit.
	ResumeUnlocked string `json:"resume_unlocked,omitempty"`
	// Routes are the ways the screen can lock on its own, each with its
	// effective numbers after machine policy was applied over the user's
	// settings.
	Routes []Route `json:"routes"`
	// Settings are the raw values read, each with its source.
	Settings []Setting `json:"settings"`
	// Notes explains sources that were missing or could not be read.
	Notes []string `json:"notes,omitempty"`
}

// Power sources a route can be limited to.
const (
	PowerAny     = ""
	PowerAC      = "ac"
	PowerBattery = "battery"
)

// Route is one way the screen locks when the user is idle: after
// IdleSeconds the screen saver starts, the display sleeps or the session
// goes idle, and GraceSeconds later a password is required.
type Route struct {
	// Name says what the route is, e.g. "screen saver" or "display sleep".
	Name string `json:"name"`
	// Power is PowerAC or PowerBattery when the route applies on that
	// power source only, PowerAny otherwise.
	Power string `json:"power,omitempty"`
	// IdleSeconds is the idle time before the route fires; 0 means never.
	IdleSeconds int `json:"idle_seconds"`
	// GraceSeconds is the further delay before a password is asked.
	GraceSeconds int `json:"grace_seconds"`
	// PasswordRequired says whether unlocking after this route needs the
	// password.
	PasswordRequired bool `json:"password_required"`
	// Source names where the deciding values came from.
	Source string `json:"source"`
	// Unknown, when set, says why the route's numbers could not be read;
	// the other fields are then meaningless.
	Unknown string `json:"unknown,omitempty"`
}

// Setting is one raw value read from the machine.
type Setting struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Source string `json:"source"`
}
