// Package screenlock is the `screen_lock` control (Policy 550.04 C.7.a.v, C.7.a.viii, C.6.a.xiii): the screen locks after at most 20 minutes idle and needs a password to unlock.
//
// This agent version registers the control and its policy thresholds but
// does not collect its facts yet, on any OS: the control is reported as
// unknown with that reason, which the default policy treats as blocking.
// The collectors come with the catalog issue.
package screenlock
