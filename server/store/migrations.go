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
}
