// Package pgtest runs a throwaway PostgreSQL server for tests of the
// PostgreSQL store: one cluster per test binary, made with initdb in a
// temporary directory, reachable only on a Unix socket there, with a new
// empty database for every test.
//
// A package using it calls Main from its TestMain, which stops the server
// after the tests. DSN skips the test when no PostgreSQL binaries are found
// (initdb and postgres on PATH, in $POSTERN_PG_BIN, or in
// /usr/lib/postgresql/*/bin), except when CI is set: CI must run these
// tests, so there a missing PostgreSQL fails them. initdb refuses to run as
// root, so under root the server runs as the "postgres" account, or
// "nobody" when there is none.
//
// The package is for tests on Linux and macOS; on Windows DSN skips.
package pgtest
