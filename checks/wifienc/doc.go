// Package wifienc is the `wifi_encryption` control (Policy 550.04 C.7.a.ix): the current Wi-Fi is WPA2 or WPA3, unless an approved VPN carries the traffic.
//
// This agent version registers the control and its policy thresholds but
// does not collect its facts yet, on any OS: the control is reported as
// unknown with that reason, which the default policy treats as blocking.
// The collectors come with the catalog issue.
package wifienc
