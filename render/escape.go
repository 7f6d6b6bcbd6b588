package render

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The escapers below are the only functions templates may use to print a
// value (TestTemplatesEscapeEveryValue enforces it). Each takes the raw value
// and returns it ready for one syntactic context; they compose innermost
// first, e.g. {{ .Steps | sh | groovy | xml }} is a shell word, inside a
// Groovy string, inside an XML text node.
//
// Each refuses (with an error naming the problem) a value it cannot
// represent rather than replacing characters, so a rendered file is either
// exact or not written at all.

// escapers maps template function names to escapers; the parse-tree test
// uses the same table.
var escapers = map[string]any{
	"xml":        escapeXML,
	"xmlAttr":    escapeXMLAttr,
	"groovy":     quoteGroovy,
	"groovyList": quoteGroovyList,
	"sh":         quoteShell,
	"json":       quoteJSON,
	"text":       plainText,
	"ident":      identifier,
}

// identifier passes s through when it is a name that means the same in
// every syntax the templates write (an environment variable, a Groovy
// map key or property): letters, digits and '_', not starting with a
// digit. Anything else is refused.
func identifier(s string) (string, error) {
	for i, r := range s {
		if r != '_' && (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') && (i == 0 || r < '0' || r > '9') {
			return "", fmt.Errorf("%q is not an identifier (letters, digits and _, not starting with a digit)", s)
		}
	}
	if s == "" {
		return "", fmt.Errorf("an identifier cannot be empty")
	}
	return s, nil
}

// escapeXML escapes s for XML 1.0 character data: &, < and > (which also
// breaks "]]>"). Quotes, newlines and tabs stay literal, so an embedded
// script stays readable; a carriage return becomes &#xD; because parsers
// would otherwise fold CR LF into LF.
func escapeXML(s string) (string, error) { return xmlEscape(s, false) }

// escapeXMLAttr escapes s for a quoted XML attribute value: also both
// quotes, and newlines and tabs as references (parsers normalise literal
// ones to spaces).
func escapeXMLAttr(s string) (string, error) { return xmlEscape(s, true) }

func xmlEscape(s string, attr bool) (string, error) {
	if err := xmlChars(s); err != nil {
		return "", err
	}
	// Every character replaced is ASCII, so scanning bytes is safe in
	// UTF-8, and the runs between them are copied whole (most values have
	// none: they are returned as they are).
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch c := s[i]; {
		case c == '&':
			rep = "&amp;"
		case c == '<':
			rep = "&lt;"
		case c == '>':
			rep = "&gt;" // also breaks "]]>"
		case c == '\r':
			rep = "&#xD;"
		case !attr:
			continue
		case c == '"':
			rep = "&quot;"
		case c == '\'':
			rep = "&apos;"
		case c == '\n':
			rep = "&#xA;"
		case c == '\t':
			rep = "&#x9;"
		default:
			continue
		}
		if last == 0 {
			b.Grow(len(s) + len(s)/8)
		}
		b.WriteString(s[last:i])
		b.WriteString(rep)
		last = i + 1
	}
	if last == 0 {
		return s, nil
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

// xmlChars reports the first character XML 1.0 cannot carry, even as a
// character reference (the Char production: no C0 controls but tab, LF and
// CR; no surrogates; no U+FFFE/U+FFFF), or invalid UTF-8.
func xmlChars(s string) error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				return fmt.Errorf("invalid UTF-8 at byte %d: XML can only carry valid UTF-8 text", i)
			}
		}
		ok := r == '\t' || r == '\n' || r == '\r' ||
			(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || r >= 0x10000
		if !ok {
			return fmt.Errorf("character %U at byte %d cannot appear in an XML document: remove it", r, i)
		}
	}
	return nil
}

// quoteGroovy returns s as a Groovy single-quoted string literal, where
// ${...} is inert. Backslash is escaped first, then the quote, so "”'" or a
// trailing backslash cannot end the literal; since every user backslash is
// doubled, a "\u0027" in the value can never become a Unicode escape (Groovy,
// like Java, translates those before lexing, but only after an odd run of
// backslashes). Non-ASCII is written as is: Jenkins reads Groovy as UTF-8.
func quoteGroovy(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("invalid UTF-8: Groovy source must be valid UTF-8")
	}
	var b strings.Builder
	b.Grow(len(s) + 2 + len(s)/8)
	b.WriteByte('\'')
	for i, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 || r == 0x7F {
				// A \uXXXX escape would be translated before lexing and
				// could not be written safely for every character.
				return "", fmt.Errorf("control character %U at byte %d cannot be written in a Groovy string: remove it", r, i)
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String(), nil
}

// quoteGroovyList returns a Groovy list literal of single-quoted strings.
func quoteGroovyList(items []string) (string, error) {
	parts := make([]string, len(items))
	for i, it := range items {
		q, err := quoteGroovy(it)
		if err != nil {
			return "", err
		}
		parts[i] = q
	}
	return "[" + strings.Join(parts, ", ") + "]", nil
}

// quoteShell returns s as one single-quoted POSIX shell word: nothing is
// special inside single quotes, so only the quote itself needs the
// close-escape-reopen dance. A NUL cannot be passed to a program at all.
func quoteShell(s string) (string, error) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return "", fmt.Errorf("NUL byte at %d cannot be passed to a shell command: remove it", i)
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'", nil
}

// quoteJSON returns v as JSON (a string becomes a quoted JSON string with
// <, > and & written as \u escapes, so it is also safe inside HTML/XML).
func quoteJSON(v any) (string, error) {
	if s, ok := v.(string); ok && !utf8.ValidString(s) {
		return "", fmt.Errorf("invalid UTF-8: JSON text must be valid UTF-8")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encoding JSON: %w", err)
	}
	return string(b), nil
}

// plainText passes s into help text that Jenkins shows through its markup
// formatter: escaped plain text by default (so nothing needs escaping), or
// "Safe HTML" on some controllers, which would read markup. It refuses the
// characters that would read differently under the two (<, > and &) and
// control characters other than newline and tab, so the text reads the
// same under either.
func plainText(s string) (string, error) {
	if i := strings.IndexAny(s, "<>&"); i >= 0 {
		return "", fmt.Errorf("%q at %d would be markup under a Safe HTML formatter: help text must be plain", s[i], i)
	}
	for i, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return "", fmt.Errorf("control character %U at %d cannot appear in help text", r, i)
		}
	}
	return s, nil
}
