// Package passwordpolicy is the `password_policy` control (Policy 550.04 C.6.a.i-ix): the local password rules require length, complexity, maximum age, history and lockout.
//
// This agent version registers the control and its policy thresholds but
// does not collect its facts yet, on any OS: the control is reported as
// unknown with that reason, which the default policy treats as blocking.
// The collectors come with the catalog issue.
package passwordpolicy
