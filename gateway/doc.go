// Package gateway is a small client for gateways that ask postern-server
// whether a device may open or keep a session: Client.Decide calls
// GET /v1/decision, Client.Events follows GET /v1/events (Server-Sent
// Events, reconnecting and resuming by Last-Event-ID) so that a gateway
// can end live sessions of a device that falls out of compliance, and
// VerifyWebhook checks the signature of a webhook delivery.
//
// The package depends on the standard library only, so that it can be
// vendored into any gateway, and runs on every OS Go supports.
package gateway
