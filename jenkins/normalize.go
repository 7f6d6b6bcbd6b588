package jenkins

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// NormalizeConfig returns the canonical form of a job or folder config.xml,
// so that what Jenkins stores can be compared with what we rendered. It
// removes what Jenkins rewrites on save and nothing else:
//
//   - the XML declaration (Jenkins writes version='1.1', which
//     encoding/xml refuses, so it is cut before parsing);
//
//   - every plugin="name@version" attribute;
//
//   - whitespace-only text between elements (indentation); whitespace
//     that is the whole content of a leaf element is kept, it is a value.
//
//   - comments and processing instructions: after an XML createItem or
//     config.xml POST Jenkins returns the posted text (an identity copy,
//     comments included) until the item is next saved, when XStream
//     writes it without them; both forms must compare equal.
//
// <a></a> and <a/> come out alike (as <a/>). Text and attribute order are
// kept; characters are re-escaped minimally (&amp; &lt; &gt;, and &quot;
// in attributes), so "&#39;" and "'" compare equal.
func NormalizeConfig(data []byte) ([]byte, error) {
	d := xml.NewDecoder(bytes.NewReader(StripDeclaration(data)))
	d.Strict = true
	var (
		out     bytes.Buffer
		stack   []xml.Name
		hasKids []bool
		text    strings.Builder
		open    bool // a start tag is written up to its attributes, ">" pending
		roots   int
	)
	closeOpen := func() {
		if open {
			out.WriteByte('>')
			open = false
		}
	}
	// flushText writes buffered text, dropping it when it is only
	// whitespace next to a child element (or outside the root).
	flushText := func(child bool) {
		t := text.String()
		text.Reset()
		if t == "" {
			return
		}
		if strings.TrimSpace(t) == "" && (len(stack) == 0 || child || hasKids[len(hasKids)-1]) {
			return
		}
		if len(stack) == 0 {
			return // non-space text outside the root is rejected by the decoder
		}
		closeOpen()
		escapeText(&out, t, false)
	}
	// beginChild ends what precedes a child node (element, comment, PI,
	// directive) of the current element.
	beginChild := func() {
		flushText(true)
		if len(hasKids) > 0 {
			hasKids[len(hasKids)-1] = true
		}
		closeOpen()
	}
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("config.xml does not parse: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				roots++
				if roots > 1 {
					return nil, errors.New("config.xml does not parse: more than one root element")
				}
			}
			beginChild()
			writeStartTag(&out, t)
			open = true
			stack = append(stack, t.Name)
			hasKids = append(hasKids, false)
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1] != t.Name {
				return nil, fmt.Errorf("config.xml does not parse: unexpected </%s>", qname(t.Name))
			}
			flushText(false)
			if open {
				out.WriteString("/>")
				open = false
			} else {
				out.WriteString("</" + qname(t.Name) + ">")
			}
			stack = stack[:len(stack)-1]
			hasKids = hasKids[:len(hasKids)-1]
		case xml.CharData:
			text.Write(t)
		case xml.Comment, xml.ProcInst:
			// Dropped, as XStream drops them on save (see above).
		case xml.Directive:
			beginChild()
			out.WriteString("<!" + string(t) + ">")
		}
	}
	if len(stack) > 0 {
		return nil, fmt.Errorf("config.xml does not parse: <%s> is never closed", qname(stack[len(stack)-1]))
	}
	if roots == 0 {
		return nil, errors.New("config.xml does not parse: no root element")
	}
	return out.Bytes(), nil
}

// writeStartTag writes "<name attrs" without the closing ">", which
// depends on whether the element turns out empty. The plugin="name@version"
// attributes Jenkins adds on save are dropped.
func writeStartTag(out *bytes.Buffer, t xml.StartElement) {
	out.WriteByte('<')
	out.WriteString(qname(t.Name))
	for _, a := range t.Attr {
		if a.Name.Space == "" && a.Name.Local == "plugin" {
			continue
		}
		out.WriteByte(' ')
		out.WriteString(qname(a.Name))
		out.WriteString(`="`)
		escapeText(out, a.Value, true)
		out.WriteByte('"')
	}
}

// StripDeclaration removes a byte-order mark, leading whitespace and the
// <?xml …?> declaration: Jenkins writes version 1.1, which encoding/xml
// refuses to read.
func StripDeclaration(data []byte) []byte {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) > 5 && bytes.HasPrefix(trimmed, []byte("<?xml")) && strings.ContainsRune(" \t\r\n", rune(trimmed[5])) {
		if i := bytes.Index(trimmed, []byte("?>")); i >= 0 {
			return trimmed[i+2:]
		}
	}
	return data
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func escapeText(b *bytes.Buffer, s string, attr bool) {
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"' && attr:
			b.WriteString("&quot;")
		case r == '\n' && attr:
			b.WriteString("&#xA;")
		case r == '\t' && attr:
			b.WriteString("&#x9;")
		case r == '\r':
			b.WriteString("&#xD;")
		default:
			b.WriteRune(r)
		}
	}
}
