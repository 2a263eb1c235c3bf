// Package dashtest seeds a store with a realistic fleet for the
// dashboard's tests, benchmarks, browser tests and screenshots. Each
// device's report is collected from its own OS's recorded snapshot under
// checks/testdata/snapshots (compliant, non-compliant, or compliant with
// a few controls taken from the non-compliant machine), so every control
// shows real facts and evidence. Seed at Now, which fits the snapshots'
// recording time. Test support only; builds on every OS.
package dashtest
