// Package dashtest seeds a store with a realistic fleet for the
// dashboard's tests, benchmarks, browser tests and screenshots. Reports
// are collected from the recorded snapshots under checks/testdata, so
// every control shows real facts and evidence. Test support only.
package dashtest
