// Package alerts tells people when something needs them: a device newly
// blocked, a policy change held by the mass-failure guard, an exception
// expiring within 7 days, a break found in the audit chain, and the
// server's own HTTPS certificate nearing its end. Alerts go by email
// (SMTP with STARTTLS, never in the clear) and to chat incoming webhooks
// shaped for Slack and Microsoft Teams.
//
// A Dispatcher batches what is raised within a window into one message
// per channel, sends at most MaxPerHour messages per channel (the rest
// wait for the next allowed batch), and retries a failing channel with
// backoff. Watchers turn the audit log, the exceptions, the audit chain
// and the certificate into alerts, each once (their marks are kept in
// the store's server state, so replicas and restarts do not repeat them).
// Secrets (the SMTP password, webhook URLs, which carry their own
// tokens) are never logged.
//
// Server only; every OS.
package alerts
