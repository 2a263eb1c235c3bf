// Package events carries decision changes from the server's decision
// engine to whoever streams them out (Server-Sent Events, webhooks,
// metrics). An Event is shaped after the OpenID Continuous Access
// Evaluation Profile (CAEP) device-compliance-change event so that a
// gateway can end a live session when a device falls out of compliance.
//
// The package is pure Go and runs on every OS the server supports.
package events
