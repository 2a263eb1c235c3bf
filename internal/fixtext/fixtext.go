// Package fixtext renders the short texts of findings and fixes, in
// which commands are written between backticks ("run `sudo ufw
// enable`"), as HTML with the commands in <code> and no backtick left.
// Every web page that shows a fix (the dashboard, the block page) goes
// through it. Any OS.
package fixtext

import (
	"html/template"
	"strings"
)

// Part is a run of a text: a command (Code) or words.
type Part struct {
	Text string
	Code bool
}

// Parts splits s at backticks: the odd runs are code. Text with an
// unmatched backtick is one run of words, backticks dropped, so that none
// shows.
func Parts(s string) []Part {
	if s == "" {
		return nil
	}
	runs := strings.Split(s, "`")
	if len(runs)%2 == 0 {
		return []Part{{Text: strings.ReplaceAll(s, "`", "")}}
	}
	out := make([]Part, 0, len(runs))
	for i, r := range runs {
		if r != "" {
			out = append(out, Part{Text: r, Code: i%2 == 1})
		}
	}
	return out
}

// HTML is s with its commands in <code>, every part escaped.
func HTML(s string) template.HTML {
	var b strings.Builder
	for _, p := range Parts(s) {
		if p.Code {
			b.WriteString("<code>" + template.HTMLEscapeString(p.Text) + "</code>")
		} else {
			b.WriteString(template.HTMLEscapeString(p.Text))
		}
	}
	return template.HTML(b.String())
}
