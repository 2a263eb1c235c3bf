package checks

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/postern-dev/postern/checks/host"
)

// ControlID is the stable name of a control, used in JSON, the protocol,
// policy files and the dashboard.
type ControlID string

// The ten controls of Policy 550.04 C.7 and C.6.
const (
	PasswordProtected ControlID = "password_protected"
	PasswordPolicy    ControlID = "password_policy"
	Firewall          ControlID = "firewall"
	OSSupported       ControlID = "os_supported"
	OSAutoUpdate      ControlID = "os_auto_update"
	OSPatched         ControlID = "os_patched"
	Antivirus         ControlID = "antivirus"
	ScreenLock        ControlID = "screen_lock"
	WiFiEncryption    ControlID = "wifi_encryption"
	DiskEncryption    ControlID = "disk_encryption"
)

// AllControlIDs lists every control in display order.
var AllControlIDs = []ControlID{
	PasswordProtected, PasswordPolicy, Firewall, OSSupported, OSAutoUpdate,
	OSPatched, Antivirus, ScreenLock, WiFiEncryption, DiskEncryption,
}

// Valid reports whether id is one of the ten known controls.
func (id ControlID) Valid() bool {
	for _, c := range AllControlIDs {
		if c == id {
			return true
		}
	}
	return false
}

// Status is the outcome of evaluating one control.
type Status string

// Statuses of a control.
const (
	StatusPass          Status = "pass"
	StatusFail          Status = "fail"
	StatusUnknown       Status = "unknown"
	StatusNotApplicable Status = "not_applicable"
)

// Device describes the machine a report is about.
type Device struct {
	Hostname  string `json:"hostname"`
	OS        string `json:"os"`
	OSName    string `json:"os_name"`
	OSVersion string `json:"os_version"`
	Arch      string `json:"arch"`
}

// Observation is what one collector saw: the control's typed facts encoded
// as JSON, or the reason they could not be collected.
type Observation struct {
	ID            ControlID       `json:"id"`
	Facts         json.RawMessage `json:"facts,omitempty"`
	UnknownReason string          `json:"unknown_reason,omitempty"`
}

// Report is one check cycle's facts about a device.
type Report struct {
	Device       Device        `json:"device"`
	CollectedAt  time.Time     `json:"collected_at"`
	Observations []Observation `json:"observations"`
}

// Observation returns the observation for id, if the report has one.
func (r *Report) Observation(id ControlID) (Observation, bool) {
	for _, o := range r.Observations {
		if o.ID == id {
			return o, true
		}
	}
	return Observation{}, false
}

// Result is a control evaluator's judgement of its facts.
type Result struct {
	Status  Status `json:"status"`
	Summary string `json:"summary"`
	// Evidence holds the observed values that led to the status, by name.
	Evidence map[string]any `json:"evidence"`
	// Remediation tells the user how to fix a failing control on their OS.
	Remediation string `json:"remediation,omitempty"`
}

// Verdict is a Result labelled with its control, as printed by
// `postern-agent check --json` and served by the server.
type Verdict struct {
	ID          ControlID      `json:"id"`
	Status      Status         `json:"status"`
	Title       string         `json:"title"`
	Summary     string         `json:"summary"`
	Evidence    map[string]any `json:"evidence"`
	Remediation string         `json:"remediation"`
	PolicyRef   string         `json:"policy_ref"`
}

// EvalInput is everything an evaluator may look at. Evaluators are pure:
// the same input always gives the same Result.
type EvalInput struct {
	// OS is the device's GOOS, for OS-specific remediation text.
	OS string
	// Facts is the JSON of the control's facts type.
	Facts json.RawMessage
	// Thresholds is the pointer returned by the control's DefaultThresholds,
	// possibly overridden by the policy file.
	Thresholds any
	// CollectedAt is when the facts were collected; Now is the time of
	// evaluation (ages such as antivirus definitions are measured to Now).
	CollectedAt time.Time
	Now         time.Time
}

// Control is one entry in the catalog.
type Control struct {
	ID ControlID
	// Collect reads the machine and returns the control's facts (a value
	// that encodes to JSON). An error means the facts could not be
	// determined; its text becomes the unknown reason, so it must say why.
	Collect func(ctx context.Context, h host.Host) (any, error)
	// Evaluate judges the facts against the thresholds.
	Evaluate func(in EvalInput) Result
	// DefaultThresholds returns a new pointer to the control's threshold
	// struct holding the Policy 550.04 defaults. Its fields carry yaml tags;
	// policy files override them. Nil when the control has no thresholds.
	DefaultThresholds func() any
}

var (
	registryMu sync.RWMutex
	registry   = map[ControlID]Control{}
)

// Register adds a control to the catalog. It panics on an unknown or
// duplicate ID, which is a programming error caught by any test.
func Register(c Control) {
	if !c.ID.Valid() {
		panic(fmt.Sprintf("checks: register unknown control %q", c.ID))
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[c.ID]; dup {
		panic(fmt.Sprintf("checks: control %q registered twice", c.ID))
	}
	registry[c.ID] = c
}

// Lookup returns the registered control with id.
func Lookup(id ControlID) (Control, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	c, ok := registry[id]
	return c, ok
}

// Registered returns the registered controls in display order.
func Registered() []Control {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]Control, 0, len(registry))
	for _, id := range AllControlIDs {
		if c, ok := registry[id]; ok {
			out = append(out, c)
		}
	}
	return out
}

// meta holds what every build knows about a control, registered or not.
var meta = map[ControlID]struct{ title, ref string }{
	PasswordProtected: {"Device is password-protected", "C.7.a.i"},
	PasswordPolicy:    {"Password rules", "C.6.a.i-ix"},
	Firewall:          {"Host firewall on", "C.7.a.ii"},
	OSSupported:       {"Operating system supported by its vendor", "C.7.a.iii"},
	OSAutoUpdate:      {"Automatic updates on", "C.7.a.iii"},
	OSPatched:         {"Security patches installed", "C.7.a.iii"},
	Antivirus:         {"Anti-virus running with current definitions", "C.7.a.iv"},
	ScreenLock:        {"Screen locks within 20 minutes", "C.7.a.v, C.7.a.viii, C.6.a.xiii"},
	WiFiEncryption:    {"No open or WEP Wi-Fi without a VPN", "C.7.a.ix"},
	DiskEncryption:    {"Disk encrypted", "C.7.a.xii"},
}

// Title is the control's short human title.
func (id ControlID) Title() string { return meta[id].title }

// PolicyRef names the Policy 550.04 section the control implements.
func (id ControlID) PolicyRef() string { return meta[id].ref }
