package osdata

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed releases.yaml
var embedded []byte

// MaxTableSize bounds a table file.
const MaxTableSize = 1 << 20

// maxEntries bounds the entries of one table or policy override list.
const maxEntries = 2000

// Date is a calendar day in UTC, written 2006-01-02 in YAML and JSON.
type Date struct{ time.Time }

// ParseDate parses a 2006-01-02 day.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date such as 2025-10-14", s)
	}
	return Date{t}, nil
}

// UnmarshalYAML reads a 2006-01-02 day.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	p, err := ParseDate(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = p
	return nil
}

// MarshalYAML writes the day as 2006-01-02.
func (d Date) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalJSON writes the day as "2006-01-02".
func (d Date) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// UnmarshalJSON reads "2006-01-02".
func (d *Date) UnmarshalJSON(b []byte) error {
	p, err := ParseDate(strings.Trim(string(b), `"`))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// String is the day as 2006-01-02, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(time.DateOnly)
}

// End is the first instant after the day, when support is over.
func (d Date) End() time.Time { return d.AddDate(0, 0, 1) }

// Unlisted says what a release newer or older than every listed one is.
type Unlisted string

// Verdicts for unlisted releases.
const (
	UnlistedUnknown   Unlisted = "unknown"
	UnlistedSupported Unlisted = "supported"
	UnlistedEOL       Unlisted = "end_of_life"
)

// Platform holds the rules for one platform's unlisted releases.
type Platform struct {
	// SupportedLatest, when set, ends support for a listed release without
	// an eol date once that many newer releases are listed (macOS: 3); it
	// ends on the release date of the one that pushed it out.
	SupportedLatest int `yaml:"supported_latest,omitempty"`
	// OlderUnlisted and NewerUnlisted judge versions below the oldest or
	// above the newest listed release; empty means unknown.
	OlderUnlisted Unlisted `yaml:"older_unlisted,omitempty"`
	NewerUnlisted Unlisted `yaml:"newer_unlisted,omitempty"`
}

// Extension is a support program after the end of standard support:
// Windows ESU, Ubuntu Pro ESM, Debian LTS, SUSE LTSS.
type Extension struct {
	Program string `yaml:"program" json:"program"`
	Until   Date   `yaml:"until" json:"until"`
	// Requires lists evidence of enrolment, any one of which suffices:
	// Windows ESU activation IDs, Ubuntu Pro service names, SUSE product
	// files. Empty means every device gets it (Debian LTS).
	Requires []string `yaml:"requires,omitempty" json:"requires,omitempty"`
	Source   string   `yaml:"source" json:"source"`
}

// Release is one entry of the end-of-life table.
type Release struct {
	Platform string `yaml:"platform" json:"platform"`
	// Version is the Windows build, the macOS major version or the Linux
	// VERSION_ID; "*" matches any version (rolling releases).
	Version string `yaml:"version" json:"version"`
	// Editions are Windows edition classes (see EditionClass); empty
	// matches any edition.
	Editions []string `yaml:"editions,omitempty" json:"editions,omitempty"`
	Name     string   `yaml:"name" json:"name"`
	Released Date     `yaml:"released,omitempty" json:"released,omitzero"`
	// EOL is the last day of standard security support; zero while the
	// vendor has announced none.
	EOL      Date        `yaml:"eol,omitempty" json:"eol,omitzero"`
	Extended []Extension `yaml:"extended,omitempty" json:"extended,omitempty"`
	Note     string      `yaml:"note,omitempty" json:"note,omitempty"`
	Source   string      `yaml:"source" json:"source"`
}

// Baseline is the lowest acceptable patch level of one release.
type Baseline struct {
	Platform string `yaml:"platform" json:"platform"`
	Version  string `yaml:"version" json:"version"`
	// Minimum is the full version: Windows build.UBR, macOS ProductVersion.
	Minimum  string `yaml:"minimum" json:"minimum"`
	Released Date   `yaml:"released" json:"released"`
	Name     string `yaml:"name" json:"name"`
	Source   string `yaml:"source" json:"source"`
}

// Table is the end-of-life table and the patch baselines.
type Table struct {
	Format    int                 `yaml:"format"`
	Reviewed  Date                `yaml:"reviewed"`
	Platforms map[string]Platform `yaml:"platforms"`
	Releases  Releases            `yaml:"releases"`
	Baselines Baselines           `yaml:"baselines"`
}

// Releases is a list of releases that decodes strictly from YAML, so a
// policy override with a misspelt field is an error, not a silent no-op.
type Releases []Release

// Baselines is a list of baselines that decodes strictly from YAML.
type Baselines []Baseline

// UnmarshalYAML decodes the list strictly and validates every entry.
func (rs *Releases) UnmarshalYAML(n *yaml.Node) error {
	var out []Release
	if err := strictDecode(n, &out); err != nil {
		return err
	}
	if len(out) > maxEntries {
		return fmt.Errorf("more than %d releases", maxEntries)
	}
	for i := range out {
		if err := out[i].Validate(); err != nil {
			return fmt.Errorf("release %d (%s %s): %w", i+1, out[i].Platform, out[i].Version, err)
		}
	}
	*rs = out
	return nil
}

// UnmarshalYAML decodes the list strictly and validates every entry.
func (bs *Baselines) UnmarshalYAML(n *yaml.Node) error {
	var out []Baseline
	if err := strictDecode(n, &out); err != nil {
		return err
	}
	if len(out) > maxEntries {
		return fmt.Errorf("more than %d baselines", maxEntries)
	}
	for i := range out {
		if err := out[i].Validate(); err != nil {
			return fmt.Errorf("baseline %d (%s %s): %w", i+1, out[i].Platform, out[i].Version, err)
		}
	}
	*bs = out
	return nil
}

// strictDecode decodes n into v refusing unknown fields, which
// yaml.Node.Decode alone does not do.
func strictDecode(n *yaml.Node, v any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  "))
	}
	return nil
}

var knownEditions = map[string]bool{"home": true, "pro": true, "enterprise": true, "education": true, "ltsc": true, "iot_ltsc": true, "server": true}

// Validate reports a release entry that cannot be used.
func (r *Release) Validate() error {
	if err := validKey(r.Platform, r.Version); err != nil {
		return err
	}
	for _, e := range r.Editions {
		if !knownEditions[e] {
			return fmt.Errorf("edition %q is not one of home, pro, enterprise, education, ltsc, iot_ltsc, server", e)
		}
	}
	if r.Name == "" {
		return errors.New("name is empty")
	}
	if err := validSource(r.Source); err != nil {
		return err
	}
	for _, x := range r.Extended {
		if x.Program == "" || x.Until.IsZero() {
			return errors.New("an extended support entry needs program and until")
		}
		if err := validSource(x.Source); err != nil {
			return fmt.Errorf("extended %s: %w", x.Program, err)
		}
	}
	return nil
}

// Validate reports a baseline entry that cannot be used.
func (b *Baseline) Validate() error {
	if err := validKey(b.Platform, b.Version); err != nil {
		return err
	}
	if _, ok := ParseVersion(b.Minimum); !ok {
		return fmt.Errorf("minimum %q is not a dotted version", b.Minimum)
	}
	if b.Released.IsZero() {
		return errors.New("released is empty")
	}
	return validSource(b.Source)
}

func validKey(platform, version string) error {
	if platform == "" || len(platform) > 64 {
		return errors.New("platform is empty or too long")
	}
	if version == "" || len(version) > 64 {
		return errors.New("version is empty or too long")
	}
	return nil
}

func validSource(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("source %q is not a web address", s)
	}
	return nil
}

// Parse decodes a table strictly and validates it.
func Parse(b []byte) (*Table, error) {
	if len(b) > MaxTableSize {
		return nil, fmt.Errorf("parse release table: larger than %d bytes", MaxTableSize)
	}
	var t Table
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("parse release table: %w", err)
	}
	if t.Format != 1 {
		return nil, fmt.Errorf("parse release table: format %d is not 1", t.Format)
	}
	return &t, nil
}

var (
	defaultOnce  sync.Once
	defaultTable *Table
)

// Default returns the embedded table. It is shared: callers must not
// modify it (Merge returns a new table).
func Default() *Table {
	defaultOnce.Do(func() {
		t, err := Parse(embedded)
		if err != nil {
			panic("osdata: embedded releases.yaml: " + err.Error())
		}
		defaultTable = t
	})
	return defaultTable
}

// WithReleases returns a copy of t whose releases are extra added to t's
// (an entry with the same platform, version and editions replaces t's),
// or extra alone when replace is true.
func (t *Table) WithReleases(extra Releases, replace bool) *Table {
	out := *t
	if replace {
		out.Releases = append(Releases(nil), extra...)
		return &out
	}
	out.Releases = nil
	for _, r := range t.Releases {
		if !containsRelease(extra, r) {
			out.Releases = append(out.Releases, r)
		}
	}
	out.Releases = append(out.Releases, extra...)
	return &out
}

// WithBaselines is WithReleases for the baselines; entries are keyed by
// platform and version.
func (t *Table) WithBaselines(extra Baselines, replace bool) *Table {
	out := *t
	if replace {
		out.Baselines = append(Baselines(nil), extra...)
		return &out
	}
	out.Baselines = nil
	for _, b := range t.Baselines {
		dup := false
		for _, e := range extra {
			dup = dup || (e.Platform == b.Platform && e.Version == b.Version)
		}
		if !dup {
			out.Baselines = append(out.Baselines, b)
		}
	}
	out.Baselines = append(out.Baselines, extra...)
	return &out
}

func containsRelease(rs Releases, r Release) bool {
	for _, e := range rs {
		if e.Platform == r.Platform && e.Version == r.Version && strings.Join(e.Editions, ",") == strings.Join(r.Editions, ",") {
			return true
		}
	}
	return false
}
