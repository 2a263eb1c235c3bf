package antivirus

import "time"

// Facts is what the collector saw: every anti-virus product it found, each
// value labelled with the source that gave it.
type Facts struct {
	// Products are the products found, in the order they were looked for.
	Products []Product `json:"products"`
	// Notes explain sources that could not be read (a tool that timed out,
	// a WMI namespace that was denied), so that "no product" is honest.
	Notes []string `json:"notes,omitempty"`
}

// Product kinds, stable names used in the facts.
const (
	KindDefender    = "defender"        // Microsoft Defender Antivirus on Windows
	KindMDATP       = "mdatp"           // Microsoft Defender for Endpoint on macOS and Linux
	KindWSC         = "security_center" // a product registered with Windows Security Center
	KindClamAV      = "clamav"
	KindXProtect    = "xprotect"
	KindCrowdStrike = "crowdstrike"
	KindSentinelOne = "sentinelone"
	KindSophos      = "sophos"
)

// Product is one anti-virus product and what it reported. A nil field was
// not reported; it is never read as false.
type Product struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// FoundBy says how the product was detected (a path, a WMI class).
	FoundBy string `json:"found_by"`
	// Running: the product's engine or service is running.
	Running *Flag `json:"running,omitempty"`
	// Mode is the product's running mode as it names it, e.g. Defender's
	// "Normal" or "Passive Mode". Protecting says whether that mode scans
	// and blocks (Defender in passive mode reports real-time protection on
	// but does not block anything).
	Mode *Mode `json:"mode,omitempty"`
	// RealTime: files are scanned on access or on launch.
	RealTime *Flag `json:"real_time,omitempty"`
	// Scheduled: periodic scans are scheduled.
	Scheduled *Flag `json:"scheduled,omitempty"`
	// Definitions is when the signatures were built or installed.
	Definitions *Definitions `json:"definitions,omitempty"`
	// UpToDate is the product's own "definitions up to date" flag, for
	// products that report no time (Security Center entries, EDR agents
	// without signature files).
	UpToDate *Flag `json:"up_to_date,omitempty"`
	// AutoUpdate: definitions are updated automatically (e.g. freshclam).
	AutoUpdate *Flag `json:"auto_update,omitempty"`
	// TamperProtected and Healthy are reported when the product says.
	TamperProtected *Flag `json:"tamper_protected,omitempty"`
	Healthy         *Flag `json:"healthy,omitempty"`
	// Caveat is a known weakness of the source, e.g. a Security Center
	// state that may be stale, or XProtect's scanning model.
	Caveat string `json:"caveat,omitempty"`
	// Unreadable is why the product's state could not be read although it
	// is installed (tool missing, access denied, timed out).
	Unreadable string `json:"unreadable,omitempty"`
}

// Flag is a boolean fact and where it came from.
type Flag struct {
	Value  bool   `json:"value"`
	Source string `json:"source"`
}

// Mode is a product's running mode.
type Mode struct {
	Name       string `json:"name"`
	Protecting bool   `json:"protecting"`
	Source     string `json:"source"`
}

// Definitions describe the product's signatures. Either Updated, or
// AgeMinutes (an age the product computed when the facts were collected)
// is set; the evaluator measures the age to the time of evaluation.
type Definitions struct {
	Updated    *time.Time `json:"updated,omitempty"`
	AgeMinutes *int64     `json:"age_minutes,omitempty"`
	// AgeResolutionMinutes, when set, says AgeMinutes was rounded down to
	// that unit (Defender's AntivirusSignatureAge counts whole days): the
	// true age is below AgeMinutes plus one unit.
	AgeResolutionMinutes *int64 `json:"age_resolution_minutes,omitempty"`
	Version              string `json:"version,omitempty"`
	Source               string `json:"source"`
	// Checked is the last time the product successfully checked for new
	// definitions and found none missing (macOS software update), which
	// makes older definitions current as of that time.
	Checked *time.Time `json:"checked,omitempty"`
	// CheckedSource says where Checked came from.
	CheckedSource string `json:"checked_source,omitempty"`
}

func flag(v bool, source string) *Flag { return &Flag{Value: v, Source: source} }
