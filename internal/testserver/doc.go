// Package testserver runs a real postern-server in-process on loopback
// for tests: Start brings it up on 127.0.0.1:0 with a given policy and
// clock, waits until both listeners accept, and stops it when the test
// ends. A Server runs postern-server CLI commands against its data
// directory and asks its decision API over HTTPS, trusting its CA.
//
// It is test support only; nothing outside _test.go files imports it.
package testserver
