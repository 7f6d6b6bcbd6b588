package jenkinstest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// xnode is a minimal DOM: enough to read what Jenkins reads from config.xml
// and to write it back the way XStream's PrettyPrintWriter does.
type xnode struct {
	name  string
	attrs []xml.Attr
	kids  []any // *xnode or string (character data)
}

// child returns the first child element with the given name.
func (n *xnode) child(name string) *xnode {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if e, ok := k.(*xnode); ok && e.name == name {
			return e
		}
	}
	return nil
}

// elems returns the child elements.
func (n *xnode) elems() []*xnode {
	if n == nil {
		return nil
	}
	var out []*xnode
	for _, k := range n.kids {
		if e, ok := k.(*xnode); ok {
			out = append(out, e)
		}
	}
	return out
}

// text returns the concatenated character data of n (not of descendants).
func (n *xnode) text() string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	for _, k := range n.kids {
		if s, ok := k.(string); ok {
			b.WriteString(s)
		}
	}
	return b.String()
}

// childText is the text of a child element, "" when absent.
func (n *xnode) childText(name string) string { return n.child(name).text() }

func (n *xnode) attr(name string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.attrs {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

var xmlDeclRE = regexp.MustCompile(`^\s*<\?xml\s[^?]*\?>`)
var xmlVersionRE = regexp.MustCompile(`version\s*=\s*["']([^"']*)["']`)
var xmlEncodingRE = regexp.MustCompile(`encoding\s*=\s*["']([^"']*)["']`)

// parseXML parses a config.xml body. It accepts the XML 1.1 declaration
// Jenkins itself writes (Go's decoder only knows 1.0), and UTF-8 only.
func parseXML(data []byte) (*xnode, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if m := xmlDeclRE.Find(data); m != nil {
		if v := xmlVersionRE.FindSubmatch(m); v == nil || (string(v[1]) != "1.0" && string(v[1]) != "1.1") {
			return nil, fmt.Errorf("unsupported XML version in %q", m)
		}
		if e := xmlEncodingRE.FindSubmatch(m); e != nil && !strings.EqualFold(string(e[1]), "UTF-8") {
			return nil, fmt.Errorf("unsupported encoding %q (the emulator reads UTF-8 only)", e[1])
		}
		data = data[len(m):]
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var root *xnode
	var stack []*xnode
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &xnode{name: qname(t.Name), attrs: append([]xml.Attr(nil), t.Attr...)}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("content is not allowed in trailing section (second root element)")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1].name != qname(t.Name) {
				return nil, fmt.Errorf("element type %q must be terminated by the matching end-tag", qname(t.Name))
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, errors.New("content is not allowed outside the root element")
				}
				continue
			}
			p := stack[len(stack)-1]
			p.kids = append(p.kids, string(t))
		case xml.Directive:
			// XMLUtils.safeTransform refuses DTDs (XXE protection).
			return nil, errors.New("DOCTYPE is disallowed")
		}
	}
	if root == nil {
		return nil, errors.New("premature end of file")
	}
	if len(stack) != 0 {
		return nil, errors.New("XML document structures must start and end within the same entity")
	}
	return root, nil
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// pluginOf maps an element (by name or class attribute) to the plugin that
// owns its class, for XStream2's plugin="name@version" attribute.
var pluginPrefixes = []struct{ prefix, plugin string }{
	{"flow-definition", "workflow-job"},
	{"org.jenkinsci.plugins.workflow.job.", "workflow-job"},
	{"org.jenkinsci.plugins.workflow.cps.", "workflow-cps"},
	{"org.jenkinsci.plugins.workflow.libs.", "pipeline-groovy-lib"},
	{"com.cloudbees.hudson.plugins.folder.", "cloudbees-folder"},
	{"org.jenkinsci.plugins.credentialsbinding.", "credentials-binding"},
	{"io.jenkins.plugins.oidc__provider.", "oidc-provider"},
	{"org.jenkinsci.plugins.plaincredentials.", "plain-credentials"},
	{"com.cloudbees.plugins.credentials.", "credentials"},
	{"hudson.plugins.git.", "git"},
	{"jenkins.plugins.git.", "git"},
}

func pluginOf(n *xnode) string {
	for _, cand := range []string{n.attr("class"), n.name} {
		if cand == "" {
			continue
		}
		for _, p := range pluginPrefixes {
			if cand == p.prefix || strings.HasPrefix(cand, p.prefix) {
				return p.plugin
			}
		}
	}
	return ""
}

// xstreamXML writes n the way Jenkins saves it: the XML 1.1 declaration,
// two-space indentation, XStream's escaping, comments dropped, and
// plugin="name@version" on every element whose class belongs to a plugin
// other than its parent's (versions maps active plugins to versions).
func xstreamXML(n *xnode, versions map[string]string) []byte {
	return append([]byte("<?xml version='1.1' encoding='UTF-8'?>\n"), xstreamBody(n, versions)...)
}

// xstreamBody is XStream.toXML without the declaration XmlFile adds.
func xstreamBody(n *xnode, versions map[string]string) []byte {
	var b bytes.Buffer
	writeXStream(&b, n, 0, "", versions)
	return b.Bytes()
}

func writeXStream(b *bytes.Buffer, n *xnode, level int, parentPlugin string, versions map[string]string) {
	indent := strings.Repeat("  ", level)
	b.WriteString(indent)
	b.WriteByte('<')
	b.WriteString(n.name)
	plugin := pluginOf(n)
	var attrs []xml.Attr
	for _, a := range n.attrs {
		if a.Name.Local != "plugin" {
			attrs = append(attrs, a)
		}
	}
	if plugin != "" && plugin != parentPlugin {
		if v := versions[plugin]; v != "" {
			pa := xml.Attr{Name: xml.Name{Local: "plugin"}, Value: plugin + "@" + v}
			// XStream writes class (and resolves-to) before plugin.
			pos := 0
			for i, a := range attrs {
				if a.Name.Local == "class" || a.Name.Local == "resolves-to" {
					pos = i + 1
				}
			}
			attrs = append(attrs[:pos], append([]xml.Attr{pa}, attrs[pos:]...)...)
		}
	}
	if plugin == "" {
		plugin = parentPlugin
	}
	for _, a := range attrs {
		b.WriteByte(' ')
		b.WriteString(qname(a.Name))
		b.WriteString(`="`)
		b.WriteString(xstreamEscape(a.Value))
		b.WriteByte('"')
	}
	elems := n.elems()
	text := n.text()
	switch {
	case len(elems) == 0 && text == "" && !stringFields[n.name]:
		b.WriteString("/>\n")
	case len(elems) == 0:
		b.WriteByte('>')
		b.WriteString(xstreamEscape(text))
		b.WriteString("</")
		b.WriteString(n.name)
		b.WriteString(">\n")
	default:
		b.WriteString(">\n")
		for _, k := range n.kids {
			switch t := k.(type) {
			case *xnode:
				writeXStream(b, t, level+1, plugin, versions)
			case string:
				if s := strings.TrimSpace(t); s != "" {
					b.WriteString(indent + "  " + xstreamEscape(s) + "\n")
				}
			}
		}
		b.WriteString(indent)
		b.WriteString("</")
		b.WriteString(n.name)
		b.WriteString(">\n")
	}
}

// stringFields are elements known to hold a String: XStream writes an
// empty String as <x></x>, while empty collections and null-ish objects
// come out as <x/>.
var stringFields = map[string]bool{
	"description": true, "displayName": true, "command": true, "script": true, "scriptPath": true,
	"assignedNode": true, "credentialsId": true, "variable": true, "usernameVariable": true,
	"passwordVariable": true, "defaultValue": true, "customWorkspace": true, "id": true,
	"audience": true, "issuer": true, "url": true, "name": true, "username": true,
}

// xstreamEscape mirrors XStream's PrettyPrintWriter text escaping.
func xstreamEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		case '\r':
			b.WriteString("&#xd;")
		default:
			if r < 0x20 && r != '\n' && r != '\t' {
				fmt.Fprintf(&b, "&#x%x;", r)
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// xstreamClass turns an XStream element name back into a Java class name
// ("__" is "_", "_-" is "$").
func xstreamClass(element string) string {
	return strings.ReplaceAll(strings.ReplaceAll(element, "_-", "$"), "__", "_")
}

// xstreamElement is the inverse of xstreamClass.
func xstreamElement(class string) string {
	return strings.ReplaceAll(strings.ReplaceAll(class, "_", "__"), "$", "_-")
}

// xmlAttrs builds attributes from name, value pairs.
func xmlAttrs(kv ...string) []xml.Attr {
	var out []xml.Attr
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, xml.Attr{Name: xml.Name{Local: kv[i]}, Value: kv[i+1]})
	}
	return out
}

// identityCopy is what XMLUtils.safeTransform (an XSLT identity transform
// from a StreamSource) writes into config.xml on an XML createItem or
// config.xml POST (core ItemGroupMixIn.createProjectFromXML,
// AbstractItem.updateByXml): an XML 1.0 declaration straight before the
// root, then the document as parsed — comments, processing instructions
// and whitespace kept, empty elements collapsed to <a/>, text re-escaped
// (&amp; &lt; &gt;, CR as &#13;) and attributes double-quoted. Only the
// next save (a form create, a folder's credential change) rewrites it in
// XStream's form. body must already have parsed with parseXML.
func identityCopy(body []byte) []byte {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	if m := xmlDeclRE.Find(body); m != nil {
		body = body[len(m):]
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	depth := 0
	pending := false // a start tag written without its ">"
	closePending := func() {
		if pending {
			b.WriteByte('>')
			pending = false
		}
	}
	for {
		tok, err := d.RawToken()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			closePending()
			b.WriteByte('<')
			b.WriteString(qname(t.Name))
			for _, a := range t.Attr {
				b.WriteByte(' ')
				b.WriteString(qname(a.Name))
				b.WriteString(`="`)
				b.WriteString(identityEscape(a.Value, true))
				b.WriteByte('"')
			}
			pending = true
			depth++
		case xml.EndElement:
			if pending {
				b.WriteString("/>")
				pending = false
			} else {
				b.WriteString("</" + qname(t.Name) + ">")
			}
			depth--
		case xml.CharData:
			if depth == 0 {
				continue // SAX reports no text outside the root
			}
			closePending()
			b.WriteString(identityEscape(string(t), false))
		case xml.Comment:
			closePending()
			b.WriteString("<!--" + string(t) + "-->")
		case xml.ProcInst:
			closePending()
			b.WriteString("<?" + t.Target)
			if len(t.Inst) > 0 {
				b.WriteString(" " + string(t.Inst))
			}
			b.WriteString("?>")
		}
	}
	return b.Bytes()
}

// identityEscape is the JDK serializer's escaping of text and attributes.
func identityEscape(s string, attr bool) string {
	var b strings.Builder
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
			b.WriteString("&#10;")
		case r == '\t' && attr:
			b.WriteString("&#9;")
		case r == '\r':
			b.WriteString("&#13;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
