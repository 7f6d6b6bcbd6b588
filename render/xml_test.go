package render

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// xnode is a parsed XML element, for checking shapes and values.
type xnode struct {
	name     string
	attrs    map[string]string
	text     strings.Builder
	children []*xnode
}

// parseXML decodes doc strictly with encoding/xml and returns its root.
func parseXML(t testing.TB, doc []byte) *xnode {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	var stack []*xnode
	var root *xnode
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("XML does not parse: %v\n%.2000s", err, doc)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &xnode{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else if root != nil {
				t.Fatalf("two root elements")
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(tok)
			}
		}
	}
	if root == nil {
		t.Fatalf("no root element")
	}
	return root
}

// find returns the elements at a '/'-separated path below n.
func (n *xnode) find(path string) []*xnode {
	cur := []*xnode{n}
	for _, seg := range strings.Split(path, "/") {
		var next []*xnode
		for _, c := range cur {
			for _, ch := range c.children {
				if ch.name == seg {
					next = append(next, ch)
				}
			}
		}
		cur = next
	}
	return cur
}

// one returns the single element at path.
func (n *xnode) one(t testing.TB, path string) *xnode {
	t.Helper()
	got := n.find(path)
	if len(got) != 1 {
		t.Fatalf("%s/%s: %d elements, want 1", n.name, path, len(got))
	}
	return got[0]
}

// textAt returns the text of the single element at path.
func (n *xnode) textAt(t testing.TB, path string) string {
	t.Helper()
	return n.one(t, path).text.String()
}
