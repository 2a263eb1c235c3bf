// Command postern-server runs the Postern device-posture server: QUIC ingest
// and enrollment for agents, the HTTPS decision API for gateways, and the
// token and API key commands. See package
// github.com/postern-dev/postern/server/cli for its commands. It builds for
// linux, windows and darwin.
package main
