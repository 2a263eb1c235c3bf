package checktest

import "strings"

// LongLine returns start followed by filler to a length of just over
// 4 MiB, without a line end: longer than any bufio.Scanner buffer the
// parsers used, so a test can show that the lines after it are still
// read.
func LongLine(start string) string {
	const size = 4<<20 + 1
	return start + strings.Repeat("x", max(size-len(start), 1))
}
