// Package docstest runs the documentation as written. Every fenced code
// block in README.md and docs/ (as goldmark, a CommonMark parser, finds
// them: indented code and fences shown inside other blocks do not count)
// has an info string; a block marked "illustrative"
// (```sh illustrative) is shown only, and must say so. Shell blocks (sh,
// bash, shell) are run in order, per file, by bash in a scratch directory
// with freshly built postern-server and postern-agent first on PATH; YAML
// blocks are Postern policies and pass `postern-server policy check`,
// except ```yaml server-config blocks, which are server configuration
// files and must load and validate as `serve --config` reads them.
// An ```ini systemd-dropin block is a drop-in for the server package's
// unit: applied to it, the unit must pass `systemd-analyze verify`.
// Paths such as /etc/postern are never written: a guide's commands that
// run here use a scratch data directory (--data ./postern-data) and say
// that on a server --data is left out; commands that need root on a real
// host, systemd as PID 1, Windows or a Mac are ```sh illustrative with
// the reason in a comment (and the test that runs them elsewhere, if any).
// Blocks of other languages (nginx, caddyfile, json, text...) are checked
// by the tests of what they configure, or not at all. Linux only (bash).
package docstest
