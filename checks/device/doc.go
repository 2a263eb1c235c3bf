// Package device describes the machine a report is about: host name, OS,
// OS name and version, and CPU architecture. It reads them through
// checks/host, so it works on the live host and on a replayed snapshot of
// any OS (Linux, Windows, macOS) alike, and records where each value came
// from.
package device
