// Package textlines splits tool output and configuration files into
// lines for the control parsers, on every OS.
//
// A bufio.Scanner stops at its first line longer than its buffer (64 KiB
// by default) and, unless every caller checks Err, the lines after it
// are silently lost: a pending update or an enabled key written after a
// long comment would go unseen. Each has no line-length limit; the input
// is already bounded by the host interface's output and file caps.
package textlines

import (
	"iter"
	"strings"
)

// Each yields the lines of text in order without their line end: "\n"
// and one "\r" before it (or at the very end) are removed, as
// bufio.ScanLines removes them. A final line without "\n" is yielded; an
// empty text yields nothing.
func Each[T ~string | ~[]byte](text T) iter.Seq[string] {
	s := string(text)
	return func(yield func(string) bool) {
		for line := range strings.Lines(s) {
			line = strings.TrimSuffix(line, "\n")
			line = strings.TrimSuffix(line, "\r")
			if !yield(line) {
				return
			}
		}
	}
}
