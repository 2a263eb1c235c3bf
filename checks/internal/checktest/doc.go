// Package checktest holds helpers shared by the control packages' tests:
// reading a recorded command output from the package's testdata;
// collecting facts, passing them through JSON as the agent sends them
// and evaluating them; seeding fuzz targets with the recorded samples;
// checking that any evaluation gives a valid status with a reason; and
// building a line too long for a bufio.Scanner. It is test support only;
// nothing outside _test.go files imports it.
package checktest
