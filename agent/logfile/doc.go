// Package logfile is a size-capped, rotated log file for the agent
// service on Windows and macOS, which have no journal to take its stderr:
// agent.log grows to a limit, then becomes agent.log.1 (and so on, a few
// generations), the oldest being deleted. Files are created mode 0600.
// Portable.
package logfile
