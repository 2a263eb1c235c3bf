// Package checktest holds helpers shared by the control packages' tests:
// reading a recorded command output from the package's testdata, and
// passing collected facts through JSON as the agent sends them. It is
// test support only; nothing outside _test.go files imports it.
package checktest
