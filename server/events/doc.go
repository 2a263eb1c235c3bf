// Package events carries decision changes from the audit log to whoever
// streams them out. An Event is shaped after the OpenID Continuous Access
// Evaluation Profile (CAEP) device-compliance-change event so that a
// gateway can end a live session when a device falls out of compliance;
// StreamEvent is its public JSON form, the same on GET /v1/events (served
// by the api package) and in webhooks.
//
// The audit log is the source: the decision engine records each change
// once (a decision_changed row), and every server replica runs a Feed that
// reads new rows and publishes them on its Bus with the row's seq as the
// event ID. IDs therefore survive restarts and are the same on every
// replica, and a Bus primed from the newest rows lets a client resume from
// an ID it got from another replica or an earlier run.
//
// Webhooks (StartWebhooks) are delivered here too, from the same log: each
// event is POSTed signed (SignWebhook, X-Postern-Signature) to every
// configured receiver, in order per receiver, retried with backoff, and
// each receiver's position is kept in server state, so that a restart or
// another replica continues where delivery stopped. Only the replica
// holding the webhook lease delivers.
//
// The package is pure Go and runs on every OS the server supports.
package events
