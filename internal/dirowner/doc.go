// Package dirowner gives a file that a command run as root creates in a
// service's data directory to the directory's owner. Admins run
// `postern-server` subcommands as root on /var/lib/postern-server, which
// belongs to the `postern` service user; a key file left owned by root
// (mode 0600) would stop the service from starting.
package dirowner
