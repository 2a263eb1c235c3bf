package ossupported

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/osdata"
)

// Sources of enrolment evidence.
const (
	// windowsAppID is the licensing application ID of Windows itself; ESU
	// add-on licences are products of it.
	windowsAppID    = "55c92734-d682-4d71-983e-d6ec3f16059f"
	licenseQuery    = "SELECT ID, Name, LicenseStatus FROM SoftwareLicensingProduct WHERE ApplicationID='" + windowsAppID + "' AND PartialProductKey IS NOT NULL"
	proStatusPath   = "/var/lib/ubuntu-advantage/status.json"
	proPath         = "/usr/bin/pro"
	suseProductsDir = "/etc/products.d"
	// maxEnrollments bounds the evidence kept.
	maxEnrollments = 32
)

// Collect reads the release the host runs and, where the release can
// outlive its standard support, the evidence of extended-support
// enrolment. It chooses by the host's OS so that a snapshot of any OS can
// be checked anywhere.
func Collect(ctx context.Context, h host.Host) (any, error) {
	id, err := osdata.ReadIdentity(ctx, h)
	if err != nil {
		return nil, err
	}
	f := &Facts{OS: id}
	switch id.Platform {
	case "windows":
		if needsLicenceCheck(id) {
			windowsEnrollment(ctx, h, f)
		}
	case "ubuntu":
		ubuntuEnrollment(ctx, h, f)
	case "sles":
		suseEnrollment(h, f)
	}
	if len(f.Enrollments) > maxEnrollments {
		f.Enrollments = f.Enrollments[:maxEnrollments]
	}
	return f, nil
}

// needsLicenceCheck limits the slow licensing query to releases whose
// extended support needs a licence.
func needsLicenceCheck(id osdata.Identity) bool {
	r, ok := osdata.Default().FindRelease(id)
	if !ok {
		return false
	}
	for _, x := range r.Extended {
		if len(x.Requires) > 0 {
			return true
		}
	}
	return false
}

func windowsEnrollment(ctx context.Context, h host.Host, f *Facts) {
	f.EnrollmentSource = `WMI root\cimv2 SoftwareLicensingProduct (LicenseStatus 1)`
	ctx, cancel := context.WithTimeout(ctx, 2*host.DefaultCommandTimeout)
	defer cancel()
	rows, err := h.WMI(ctx, `root\cimv2`, licenseQuery)
	if err != nil {
		f.EnrollmentError = "read the installed licences: " + err.Error()
		return
	}
	for _, row := range rows {
		id, _ := row["ID"].(string)
		name, _ := row["Name"].(string)
		if status, ok := asInt(row["LicenseStatus"]); ok && status == 1 && id != "" {
			f.Enrollments = append(f.Enrollments, Enrollment{ID: strings.ToLower(id), Name: name})
		}
	}
}

func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case float64:
		return int64(n), true
	case int:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}

// proStatus is the part of Ubuntu Pro's status we read; the file and
// `pro status --format json` share the schema.
type proStatus struct {
	Attached bool `json:"attached"`
	Services []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
	} `json:"services"`
}

func ubuntuEnrollment(ctx context.Context, h host.Host, f *Facts) {
	b, err := h.ReadFile(proStatusPath)
	f.EnrollmentSource = proStatusPath
	if err != nil {
		if !errors.Is(err, host.ErrNotFound) && !errors.Is(err, host.ErrPermission) {
			f.EnrollmentError = fmt.Sprintf("read %s: %v", proStatusPath, err)
			return
		}
		ctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
		defer cancel()
		out, rerr := h.Run(ctx, proPath, "status", "--format", "json")
		switch {
		case errors.Is(rerr, host.ErrNotFound):
			f.EnrollmentSource = "" // no Ubuntu Pro client: not enrolled
			return
		case rerr != nil:
			f.EnrollmentError = "run pro status: " + rerr.Error()
			return
		}
		b, f.EnrollmentSource = out.Stdout, "pro status --format json"
	}
	var st proStatus
	if err := json.Unmarshal(b, &st); err != nil {
		f.EnrollmentError = fmt.Sprintf("decode %s: %v", f.EnrollmentSource, err)
		return
	}
	if !st.Attached {
		return
	}
	for _, s := range st.Services {
		if s.Status == "enabled" {
			f.Enrollments = append(f.Enrollments, Enrollment{ID: s.Name, Name: "Ubuntu Pro service"})
		}
	}
}

func suseEnrollment(h host.Host, f *Facts) {
	f.EnrollmentSource = suseProductsDir
	names, err := h.ReadDir(suseProductsDir)
	if err != nil {
		if !errors.Is(err, host.ErrNotFound) {
			f.EnrollmentError = fmt.Sprintf("list %s: %v", suseProductsDir, err)
		}
		return
	}
	for _, n := range names {
		if path.Ext(n) == ".prod" {
			f.Enrollments = append(f.Enrollments, Enrollment{ID: n, Name: "SUSE product"})
		}
	}
}
