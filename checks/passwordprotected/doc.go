// Package passwordprotected is the `password_protected` control (Policy 550.04 C.7.a.i): sign-in needs a password, there is no automatic login and no interactive account without one.
//
// This agent version registers the control and its policy thresholds but
// does not collect its facts yet, on any OS: the control is reported as
// unknown with that reason, which the default policy treats as blocking.
// The collectors come with the catalog issue.
package passwordprotected
