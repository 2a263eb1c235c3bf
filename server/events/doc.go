// Package events carries decision changes from the audit log to whoever
// streams them out (Server-Sent Events, webhooks). An Event is shaped after
// the OpenID Continuous Access Evaluation Profile (CAEP)
// device-compliance-change event so that a gateway can end a live session
// when a device falls out of compliance.
//
// The audit log is the source: the decision engine records each change
// once (a decision_changed row), and every server replica runs a Feed that
// reads new rows and publishes them on its Bus with the row's seq as the
// event ID. IDs therefore survive restarts and are the same on every
// replica, and a Bus primed from the newest rows lets a client resume from
// an ID it got from another replica or an earlier run.
//
// The package is pure Go and runs on every OS the server supports.
package events
