package store

// migrations are applied in order, each once, recorded in
// schema_migrations. Never edit a released migration: append a new one.
// The SQL is portable between SQLite and PostgreSQL.
var migrations = []string{
	// 1: initial schema.
	`CREATE TABLE devices (
		id TEXT PRIMARY KEY,
		cert_sha256 TEXT NOT NULL UNIQUE,
		cert_not_after BIGINT NOT NULL,
		hostname TEXT NOT NULL,
		os TEXT NOT NULL,
		os_name TEXT NOT NULL,
		os_version TEXT NOT NULL,
		arch TEXT NOT NULL,
		org TEXT NOT NULL,
		owner TEXT NOT NULL,
		enrolled_at BIGINT NOT NULL,
		revoked_at BIGINT NOT NULL DEFAULT 0,
		last_seen_at BIGINT NOT NULL DEFAULT 0,
		last_sequence BIGINT NOT NULL DEFAULT 0,
		last_hash TEXT NOT NULL DEFAULT ''
	);
	CREATE TABLE enroll_tokens (
		hash TEXT PRIMARY KEY,
		created_at BIGINT NOT NULL,
		expires_at BIGINT NOT NULL,
		used_at BIGINT NOT NULL DEFAULT 0,
		device_id TEXT NOT NULL DEFAULT '',
		org TEXT NOT NULL,
		owner TEXT NOT NULL
	);
	CREATE TABLE api_keys (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		hash TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		revoked_at BIGINT NOT NULL DEFAULT 0
	);
	CREATE TABLE reports (
		device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
		sequence BIGINT NOT NULL,
		hash TEXT NOT NULL,
		collected_at BIGINT NOT NULL,
		received_at BIGINT NOT NULL,
		body TEXT NOT NULL,
		PRIMARY KEY (device_id, sequence)
	);
	CREATE INDEX reports_received_at ON reports (received_at);
	CREATE TABLE latest_reports (
		device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
		sequence BIGINT NOT NULL,
		hash TEXT NOT NULL,
		collected_at BIGINT NOT NULL,
		received_at BIGINT NOT NULL,
		body TEXT NOT NULL
	);
	CREATE TABLE control_failures (
		device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
		control_id TEXT NOT NULL,
		first_failed_at BIGINT NOT NULL,
		PRIMARY KEY (device_id, control_id)
	);`,
	// dashboard: local accounts, their password history and sessions (IDs
	// stored hashed), daily compliance counts for the trend chart, and the
	// indexes of the device list's filters and sorts.
	`CREATE TABLE users (
		username TEXT PRIMARY KEY,
		first_name TEXT NOT NULL,
		last_name TEXT NOT NULL,
		role TEXT NOT NULL,
		password_hash TEXT NOT NULL,
		password_changed_at BIGINT NOT NULL,
		must_change BIGINT NOT NULL DEFAULT 1,
		failed_attempts BIGINT NOT NULL DEFAULT 0,
		locked_at BIGINT NOT NULL DEFAULT 0,
		created_at BIGINT NOT NULL,
		last_login_at BIGINT NOT NULL DEFAULT 0
	);
	CREATE TABLE password_history (
		username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
		changed_at BIGINT NOT NULL,
		password_hash TEXT NOT NULL,
		PRIMARY KEY (username, password_hash)
	);
	CREATE TABLE sessions (
		id_hash TEXT PRIMARY KEY,
		username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
		csrf_token TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		last_seen_at BIGINT NOT NULL
	);
	CREATE INDEX sessions_username ON sessions (username);
	CREATE TABLE compliance_daily (
		day BIGINT PRIMARY KEY,
		compliant BIGINT NOT NULL,
		noncompliant BIGINT NOT NULL,
		stale BIGINT NOT NULL,
		inactive BIGINT NOT NULL,
		revoked BIGINT NOT NULL
	);
	CREATE INDEX devices_hostname ON devices (hostname);
	CREATE INDEX devices_org_owner ON devices (org, owner);
	CREATE INDEX devices_owner ON devices (owner);
	CREATE INDEX devices_last_seen ON devices (last_seen_at);
	CREATE INDEX control_failures_control ON control_failures (control_id, first_failed_at);
	CREATE INDEX control_failures_since ON control_failures (first_failed_at);
	CREATE INDEX devices_os ON devices (os);
	CREATE INDEX devices_enrolled_at ON devices (enrolled_at);
	CREATE INDEX devices_revoked_at ON devices (revoked_at);
	CREATE INDEX latest_reports_times ON latest_reports (device_id, collected_at, received_at);`,
	// policy lifecycle: hash-chained audit log (and where retention cut
	// it), exceptions, user attestations, and small named server state
	// (the policy guard's status).
	`CREATE TABLE audit_log (
		seq BIGINT PRIMARY KEY,
		at BIGINT NOT NULL,
		actor TEXT NOT NULL,
		kind TEXT NOT NULL,
		device_id TEXT NOT NULL,
		details TEXT NOT NULL,
		prev_hash TEXT NOT NULL,
		hash TEXT NOT NULL
	);
	CREATE INDEX audit_log_at ON audit_log (at);
	CREATE TABLE audit_anchor (
		id BIGINT PRIMARY KEY,
		seq BIGINT NOT NULL,
		hash TEXT NOT NULL,
		pruned_at BIGINT NOT NULL
	);
	CREATE TABLE exceptions (
		id TEXT PRIMARY KEY,
		scope TEXT NOT NULL,
		subject TEXT NOT NULL,
		control_id TEXT NOT NULL,
		reason TEXT NOT NULL,
		approver TEXT NOT NULL,
		starts_at BIGINT NOT NULL,
		expires_at BIGINT NOT NULL,
		created_at BIGINT NOT NULL,
		ended_at BIGINT NOT NULL DEFAULT 0,
		ended_by TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX exceptions_expires_at ON exceptions (expires_at);
	CREATE TABLE attestations (
		id TEXT PRIMARY KEY,
		device_id TEXT NOT NULL,
		user_name TEXT NOT NULL,
		statement_version TEXT NOT NULL,
		attested_at BIGINT NOT NULL,
		recorded_by TEXT NOT NULL
	);
	CREATE INDEX attestations_device ON attestations (device_id, attested_at);
	CREATE TABLE server_state (
		name TEXT PRIMARY KEY,
		value TEXT NOT NULL,
		updated_at BIGINT NOT NULL
	);`,
	// report ingest: the controls the device's last report failed (sorted
	// IDs joined by commas; '*' until the next report), so that a report
	// failing the same controls as the previous one leaves
	// control_failures alone.
	`ALTER TABLE devices ADD COLUMN failing TEXT NOT NULL DEFAULT '*'`,
	// device notes: analysts' short remarks, shown on the device's
	// timeline; kept apart from the audit log, which retention prunes.
	`CREATE TABLE device_notes (
		id TEXT PRIMARY KEY,
		device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
		author TEXT NOT NULL,
		body TEXT NOT NULL,
		created_at BIGINT NOT NULL
	);
	CREATE INDEX device_notes_device ON device_notes (device_id, created_at);`,
	// last decisions: each device's decision as last announced (allow and
	// its sorted reason codes), so that a restart compares with it and
	// announces what changed while the server was down.
	`CREATE TABLE last_decisions (
		device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
		allow INTEGER NOT NULL,
		reasons TEXT NOT NULL,
		decided_at BIGINT NOT NULL
	);`,
	// event feed: a server starting reads the newest events (decision
	// changes, policy changes) of the audit log without scanning it all.
	`CREATE INDEX audit_log_kind ON audit_log (kind, seq)`,
	// hardware-bound device keys: where the device key lives, as the
	// TPM attestation at enrollment showed ('software' for every device
	// enrolled before).
	`ALTER TABLE devices ADD COLUMN key_kind TEXT NOT NULL DEFAULT 'software'`,
	// enrollment secrets: reusable, org-scoped, expiring, optionally
	// limited in uses, revocable; only the hash of the secret is kept.
	`CREATE TABLE enroll_secrets (
		id TEXT PRIMARY KEY,
		hash TEXT NOT NULL UNIQUE,
		org TEXT NOT NULL,
		owner TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		expires_at BIGINT NOT NULL,
		max_uses BIGINT NOT NULL DEFAULT 0,
		uses BIGINT NOT NULL DEFAULT 0,
		revoked_at BIGINT NOT NULL DEFAULT 0
	);`,
	// the fleet's postures in one pass (Postures, for the dashboard's
	// decisions): each latest report's sequence and times from an index,
	// without reading the rows that also hold the bodies.
	`CREATE INDEX latest_reports_meta ON latest_reports (device_id, sequence, collected_at, received_at)`,
	// OIDC accounts: the identity provider's issuer and subject an account
	// was made for at its first single sign-on (empty for local accounts);
	// one account per provider identity.
	`ALTER TABLE users ADD COLUMN oidc_issuer TEXT NOT NULL DEFAULT '';
	ALTER TABLE users ADD COLUMN oidc_subject TEXT NOT NULL DEFAULT '';
	CREATE UNIQUE INDEX users_oidc ON users (oidc_issuer, oidc_subject) WHERE oidc_subject <> '';`,
	// account lifecycle: an account's state (disabled, when, why and by
	// whom; enabled again when), its last review (Policy 550.04's yearly
	// review), and the source addresses it signed in from, each with its
	// own failure count and lock, so that failures from elsewhere never
	// lock the owner out of an address the account uses.
	`ALTER TABLE users ADD COLUMN disabled_at BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE users ADD COLUMN disabled_reason TEXT NOT NULL DEFAULT '';
	ALTER TABLE users ADD COLUMN disabled_by TEXT NOT NULL DEFAULT '';
	ALTER TABLE users ADD COLUMN enabled_at BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE users ADD COLUMN reviewed_at BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE users ADD COLUMN reviewed_by TEXT NOT NULL DEFAULT '';
	CREATE TABLE user_sources (
		username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
		source TEXT NOT NULL,
		last_success_at BIGINT NOT NULL DEFAULT 0,
		failed_attempts BIGINT NOT NULL DEFAULT 0,
		locked_at BIGINT NOT NULL DEFAULT 0,
		PRIMARY KEY (username, source)
	);`,
	// scoped API keys: each key's scopes (comma-separated; keys made
	// before scopes keep what gateways needed), its owner (who created
	// it), an optional expiry and when it was last used (written at most
	// once a minute per key, never per request).
	`ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'decision:read,events:read';
	ALTER TABLE api_keys ADD COLUMN owner TEXT NOT NULL DEFAULT '';
	ALTER TABLE api_keys ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT NOT NULL DEFAULT 0;`,
	// second factors of local dashboard accounts (mfa.go): the TOTP
	// secret sealed with the data directory's mfa.key and the last time
	// step accepted (a code is good once), recovery codes hashed,
	// WebAuthn credentials, and the half-signed-in state between the
	// password and the second factor (its cookie stored hashed).
	`CREATE TABLE user_mfa (
		username TEXT PRIMARY KEY REFERENCES users(username) ON DELETE CASCADE,
		totp_secret TEXT NOT NULL DEFAULT '',
		totp_enabled_at BIGINT NOT NULL DEFAULT 0,
		totp_last_step BIGINT NOT NULL DEFAULT 0,
		webauthn_id TEXT NOT NULL DEFAULT ''
	);
	CREATE TABLE recovery_codes (
		username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
		hash TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		used_at BIGINT NOT NULL DEFAULT 0,
		PRIMARY KEY (username, hash)
	);
	CREATE TABLE webauthn_credentials (
		id TEXT PRIMARY KEY,
		username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
		name TEXT NOT NULL,
		rp_id TEXT NOT NULL,
		data TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		last_used_at BIGINT NOT NULL DEFAULT 0
	);
	CREATE INDEX webauthn_credentials_user ON webauthn_credentials (username);
	CREATE TABLE mfa_challenges (
		id_hash TEXT PRIMARY KEY,
		username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
		purpose TEXT NOT NULL,
		data TEXT NOT NULL DEFAULT '',
		created_at BIGINT NOT NULL,
		expires_at BIGINT NOT NULL
	);`,
	// minimum agent version: the version each device's agent last said it
	// runs (its Hello at enrollment and on every connection); empty until
	// then.
	`ALTER TABLE devices ADD COLUMN agent_version TEXT NOT NULL DEFAULT ''`,
	// enrollment approval: a device enrolled while the server holds new
	// enrollments for an administrator ('pending'), or whose enrollment
	// was refused ('denied'); empty when approved or never held.
	`ALTER TABLE devices ADD COLUMN approval TEXT NOT NULL DEFAULT ''`,
	// agent secret: the hash of the secret issued at enrollment that the
	// agent proves on every connection (proto/agentsecret.go); empty for
	// a device enrolled before it, which the server still accepts.
	`ALTER TABLE devices ADD COLUMN agent_secret_hash TEXT NOT NULL DEFAULT ''`,
}
