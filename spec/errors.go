package spec

import (
	"fmt"
	"sort"
	"strings"
)

// String renders the position as file:line:col, the form editors and
// terminals turn into links.
func (p Pos) String() string {
	file := p.File
	if file == "" {
		file = "<spec>"
	}
	return fmt.Sprintf("%s:%d:%d", file, p.Line, p.Column)
}

// Error is one problem found in a spec file.
type Error struct {
	Pos Pos
	// Path is the dotted path of the offending field, e.g. "jobs[2].name"
	// ("" for problems with the file as a whole).
	Path string
	// Msg says what is wrong; Hint says how to fix it.
	Msg  string
	Hint string
}

// Error renders "file:line:col: [path: ]msg (fix: hint)" on one line, so each
// problem is one grep-able, clickable line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	b.WriteString(": ")
	// The path leads unless the message already names it.
	if e.Path != "" && !strings.Contains(e.Msg, e.Path) {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString(" (fix: ")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Errors is every problem found in one spec, in file order. Load returns
// all of them at once so a user fixes a file in one pass.
type Errors []*Error

// Error renders one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each problem to errors.Is/As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// maxErrors bounds the report for pathological files: past this many, the
// remaining problems are summarised in one line.
const maxErrors = 200

// errList collects errors and remembers which paths failed to decode, so
// a field that could not be decoded does not also get "is required". Both
// lookups are by map so hostile files with many errors stay linear.
type errList struct {
	file   string
	errs   Errors
	failed map[string]bool // paths whose value failed to decode
	under  map[string]bool // ancestors of failed paths
}

// add records a problem with the value at path, marking it undecodable.
func (l *errList) add(pos Pos, path, hint, format string, args ...any) {
	l.note(pos, path, hint, format, args...)
	if l.failed == nil {
		l.failed, l.under = map[string]bool{}, map[string]bool{}
	}
	l.failed[path] = true
	for p, ok := parentPath(path); ok && !l.under[p]; p, ok = parentPath(p) {
		l.under[p] = true
	}
}

// note records a problem found by a cross-field check; the value itself
// was decoded, so checks of other fields still run.
func (l *errList) note(pos Pos, path, hint, format string, args ...any) {
	if len(l.errs) > 4*maxErrors {
		return // result() reports only maxErrors anyway
	}
	pos.File = l.file
	if pos.Line == 0 {
		pos.Line, pos.Column = 1, 1
	}
	l.errs = append(l.errs, &Error{Pos: pos, Path: path, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

// blocked reports whether the value at path or an ancestor failed.
func (l *errList) blocked(path string) bool {
	for p, ok := path, true; ok; p, ok = parentPath(p) {
		if l.failed[p] {
			return true
		}
	}
	return false
}

// broken reports whether path or anything below it failed.
func (l *errList) broken(path string) bool { return l.failed[path] || l.under[path] }

// related reports whether path, an ancestor or a descendant of it failed.
func (l *errList) related(path string) bool { return l.blocked(path) || l.under[path] }

// parentPath strips the last ".key" or "[i]" from path.
func parentPath(path string) (string, bool) {
	if path == "" {
		return "", false
	}
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return "", true
	}
	return path[:i], true
}

// result sorts by position and drops exact duplicates.
func (l *errList) result() error {
	if len(l.errs) == 0 {
		return nil
	}
	sort.SliceStable(l.errs, func(i, j int) bool {
		a, b := l.errs[i].Pos, l.errs[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	out := Errors{}
	seen := map[string]bool{}
	for _, e := range l.errs {
		k := e.Error()
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	if len(out) > maxErrors {
		rest := len(out) - maxErrors
		out = append(out[:maxErrors], &Error{Pos: out[maxErrors].Pos,
			Msg:  fmt.Sprintf("%d more problems not shown", rest),
			Hint: "fix the ones above and validate again"})
	}
	return out
}
