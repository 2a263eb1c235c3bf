// Package bundle writes the support bundle a user hands to the security
// team (`postern-agent bundle -o FILE`): a snapshot of one check of this
// machine, which `check --replay FILE` re-checks anywhere, plus the
// agent's status and that check's verdicts under bundle/. No key, token
// or password hash goes in: the snapshot is recorded through a redacting
// host that rewrites secrets the collectors read (shadow password hashes,
// macOS account hashes, the Windows auto-logon password) into stand-ins
// the checks classify the same way. docs/bundle.md lists the content.
// Portable.
package bundle
