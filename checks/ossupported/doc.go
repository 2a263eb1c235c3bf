// Package ossupported is the `os_supported` control (Policy 550.04 C.7.a.iii): the operating system release is still supported by its vendor.
//
// This agent version registers the control and its policy thresholds but
// does not collect its facts yet, on any OS: the control is reported as
// unknown with that reason, which the default policy treats as blocking.
// The collectors come with the catalog issue.
package ossupported
