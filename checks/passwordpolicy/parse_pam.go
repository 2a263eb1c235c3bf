package passwordpolicy

import (
	"path"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// pamLine is one rule of a PAM stack file (pam.conf(5)).
type pamLine struct {
	typ     string // auth, account, password, session (without a leading -)
	control string
	module  string // base name, e.g. pam_pwquality.so
	args    []string
	// include is the file named by @include or an include/substack control.
	include string
}

// parsePAM reads a /etc/pam.d file: comments, `@include FILE`, optional
// `-type` rules, and [value=action ...] controls and arguments with spaces.
func parsePAM(b []byte) []pamLine {
	var out []pamLine
	for line := range textlines.Each(b) {
		line = strings.TrimSpace(line)
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		toks := pamTokens(line)
		if toks[0] == "@include" {
			if len(toks) > 1 {
				out = append(out, pamLine{include: toks[1]})
			}
			continue
		}
		if len(toks) < 3 {
			continue
		}
		l := pamLine{typ: strings.TrimPrefix(toks[0], "-"), control: toks[1], module: path.Base(toks[2]), args: toks[3:]}
		if l.control == "include" || l.control == "substack" {
			l.include, l.module = toks[2], ""
		}
		out = append(out, l)
	}
	return out
}

// pamTokens splits on blanks, keeping a [...] group as one token.
func pamTokens(line string) []string {
	var toks []string
	// The line is only cut from the front, so the last ']' stays the same
	// distance from its end: a token that opens '[' after it has no
	// closing bracket, without searching the rest of the line again.
	closeFromEnd := len(line) - strings.LastIndexByte(line, ']')
	for line != "" {
		line = strings.TrimLeft(line, " \t")
		if line == "" {
			break
		}
		end := strings.IndexAny(line, " \t")
		// Only a '[' inside this token opens a group (searching the rest
		// of the line each time made a long line quadratic).
		word := line
		if end >= 0 {
			word = line[:end]
		}
		if open := strings.IndexByte(word, '['); open >= 0 && open <= len(line)-closeFromEnd {
			if close := strings.IndexByte(line[open:], ']'); close >= 0 {
				end = open + close + 1
				if end < len(line) && line[end] != ' ' && line[end] != '\t' {
					if e2 := strings.IndexAny(line[end:], " \t"); e2 >= 0 {
						end += e2
					} else {
						end = len(line)
					}
				}
			}
		}
		if end < 0 {
			end = len(line)
		}
		toks = append(toks, line[:end])
		line = line[end:]
	}
	return toks
}

// arg returns the value of key=value in args (the last one wins).
func arg(args []string, key string) (string, bool) {
	v, found := "", false
	for _, a := range args {
		if k, val, ok := strings.Cut(a, "="); ok && k == key {
			v, found = val, true
		}
	}
	return v, found
}

// intArg is arg parsed as an integer.
func intArg(args []string, key string) (int, bool) {
	v, ok := arg(args, key)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	return n, err == nil
}

// find returns the first rule of type typ whose module is one of mods.
func find(lines []pamLine, typ string, mods ...string) (pamLine, bool) {
	for _, l := range lines {
		if l.typ != typ {
			continue
		}
		for _, m := range mods {
			if l.module == m {
				return l, true
			}
		}
	}
	return pamLine{}, false
}
