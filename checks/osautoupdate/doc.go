// Package osautoupdate is the `os_auto_update` control (Policy 550.04 C.7.a.iii): automatic updates are enabled.
//
// This agent version registers the control and its policy thresholds but
// does not collect its facts yet, on any OS: the control is reported as
// unknown with that reason, which the default policy treats as blocking.
// The collectors come with the catalog issue.
package osautoupdate
