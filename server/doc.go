// Package server groups postern-server's packages (ca, store, ingest,
// decision, api, serve, cli) and holds the test that keeps them free of
// agent-only imports.
package server
