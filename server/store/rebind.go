package store

import (
	"strconv"
	"strings"
)

// Placeholder styles for rebind.
const (
	placeholderQuestion = iota // SQLite: ?
	placeholderDollar          // PostgreSQL: $1, $2, ...
)

// rebind rewrites the `?` placeholders of a query for the driver's style.
// Queries in this package never contain a literal question mark.
func rebind(style int, q string) string {
	if style == placeholderQuestion {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
