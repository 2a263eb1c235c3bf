package ossupported

import (
	"errors"

	"github.com/postern-dev/postern/checks/osdata"
)

var errEmptyTable = errors.New("replace_releases is true but releases is empty")

// Facts is what the collector saw.
type Facts struct {
	// OS is the release the device runs, with its source.
	OS osdata.Identity `json:"os"`
	// Enrollments is the evidence of extended-support enrolment that was
	// found: licensed Windows ESU activation IDs, enabled Ubuntu Pro
	// services, SUSE product files.
	Enrollments []Enrollment `json:"enrollments,omitempty"`
	// EnrollmentSource says where enrolment was looked for, if anywhere.
	EnrollmentSource string `json:"enrollment_source,omitempty"`
	// EnrollmentError says why enrolment could not be read.
	EnrollmentError string `json:"enrollment_error,omitempty"`
}

// Enrollment is one piece of enrolment evidence.
type Enrollment struct {
	// ID is what the table's `requires` lists name.
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

func (f *Facts) enrolledIDs() []string {
	out := make([]string, 0, len(f.Enrollments))
	for _, e := range f.Enrollments {
		out = append(out, e.ID)
	}
	return out
}
