package jenkinstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// node is an exported bean as Jenkins' Stapler "Model" sees it: a _class
// and ordered properties, each with the @Exported visibility that decides
// whether it appears at a given depth.
type node struct {
	class string
	props []prop
}

type prop struct {
	name string
	vis  int
	val  any // nil, scalars, *node, []*node, []any, json.RawMessage
	// inline is @Exported(inline = true): the value's properties count
	// at the parent's nesting level, so ?depth= does not cut them.
	inline bool
}

func newNode(class string) *node { return &node{class: class} }

// newNodeCap is newNode with room for n properties, for big beans.
func newNodeCap(class string, n int) *node {
	return &node{class: class, props: make([]prop, 0, n)}
}

// add appends a property with the default visibility (1).
func (n *node) add(name string, val any) *node { return n.addVis(name, 1, val) }

// addVis appends a property with an explicit visibility.
func (n *node) addVis(name string, vis int, val any) *node {
	n.props = append(n.props, prop{name: name, vis: vis, val: val})
	return n
}

// addInline appends an @Exported(inline = true) property.
func (n *node) addInline(name string, val any) *node {
	n.props = append(n.props, prop{name: name, vis: 1, val: val, inline: true})
	return n
}

// treeSel is one element of a ?tree= expression such as
// jobs[name,url,jobs[name]]{0,10}.
type treeSel struct {
	name   string
	sub    []treeSel
	hasSub bool
	lo, hi int // range on arrays; hi < 0 means open
}

// parseTree parses Jenkins' tree syntax.
func parseTree(s string) ([]treeSel, error) {
	p := &treeParser{s: s}
	sels, err := p.list()
	if err != nil {
		return nil, err
	}
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected %q at %d in tree", p.s[p.i:], p.i)
	}
	return sels, nil
}

type treeParser struct {
	s string
	i int
}

func (p *treeParser) list() ([]treeSel, error) {
	var out []treeSel
	for {
		start := p.i
		for p.i < len(p.s) && !strings.ContainsRune(",[]{}", rune(p.s[p.i])) {
			p.i++
		}
		sel := treeSel{name: strings.TrimSpace(p.s[start:p.i]), hi: -1}
		if p.i < len(p.s) && p.s[p.i] == '[' {
			p.i++
			sub, err := p.list()
			if err != nil {
				return nil, err
			}
			if p.i >= len(p.s) || p.s[p.i] != ']' {
				return nil, fmt.Errorf("missing ']' in tree")
			}
			p.i++
			sel.sub, sel.hasSub = sub, true
		}
		if p.i < len(p.s) && p.s[p.i] == '{' {
			end := strings.IndexByte(p.s[p.i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("missing '}' in tree")
			}
			r := p.s[p.i+1 : p.i+end]
			p.i += end + 1
			lo, hi, ok := parseRange(r)
			if !ok {
				return nil, fmt.Errorf("bad range {%s} in tree", r)
			}
			sel.lo, sel.hi = lo, hi
		}
		if sel.name != "" {
			out = append(out, sel)
		}
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		return out, nil
	}
}

func parseRange(r string) (lo, hi int, ok bool) {
	a, b, comma := strings.Cut(r, ",")
	atoi := func(s string, def int) (int, bool) {
		if s = strings.TrimSpace(s); s == "" {
			return def, true
		}
		v, err := strconv.Atoi(s)
		return v, err == nil && v >= 0
	}
	if !comma { // {n} means the first n entries
		n, ok := atoi(a, -1)
		return 0, n, ok && n >= 0
	}
	lo, ok1 := atoi(a, 0)
	hi, ok2 := atoi(b, -1)
	return lo, hi, ok1 && ok2
}

// renderJSON writes v as Jenkins' JSON API would for ?depth=depth or, when
// tree is non-nil, for ?tree=.
func renderJSON(v *node, depth int, tree []treeSel) []byte {
	var buf bytes.Buffer
	enc := encoder{buf: &buf}
	pr := pruner{depth: depth, hi: -1}
	if tree != nil {
		pr = pruner{tree: true, sels: tree, hi: -1}
	}
	enc.node(v, pr)
	return buf.Bytes()
}

// pruner decides, like Stapler's TreePruner, which properties of a bean
// are written and how their values are pruned in turn. With ?depth= a
// property shows when its visibility exceeds the bean's nesting level
// minus the depth; with ?tree= only named properties show, whatever their
// visibility, and lo/hi bound the array elements kept (hi < 0: all).
type pruner struct {
	tree         bool
	sels         []treeSel
	lo, hi       int
	level, depth int
}

// accept returns the pruner for p's value, or false to skip p.
func (t pruner) accept(p prop) (pruner, bool) {
	if !t.tree {
		level := t.level + 1
		if p.inline {
			level = t.level
		}
		return pruner{level: level, depth: t.depth, hi: -1}, p.vis > t.level-t.depth
	}
	sel, ok := findSel(t.sels, p.name)
	return pruner{tree: true, sels: sel.sub, lo: sel.lo, hi: sel.hi}, ok
}

func findSel(sels []treeSel, name string) (treeSel, bool) {
	for _, s := range sels {
		if s.name == name || s.name == "*" {
			return s, true
		}
	}
	return treeSel{}, false
}

type encoder struct {
	buf *bytes.Buffer
}

func (e *encoder) node(n *node, pr pruner) {
	e.buf.WriteByte('{')
	first := true
	if n.class != "" {
		e.key(&first, "_class")
		e.scalar(n.class)
	}
	for _, p := range n.props {
		child, ok := pr.accept(p)
		if !ok {
			continue
		}
		e.key(&first, p.name)
		e.value(p.val, child)
	}
	e.buf.WriteByte('}')
}

func (e *encoder) value(v any, pr pruner) {
	lo, hi := pr.lo, pr.hi
	switch t := v.(type) {
	case *node:
		if t == nil {
			e.buf.WriteString("null")
			return
		}
		e.node(t, pr)
	case []*node:
		t = clip(t, lo, hi)
		e.array(len(t), func(i int) { e.node(t[i], pr) })
	case []any:
		t = clip(t, lo, hi)
		e.array(len(t), func(i int) { e.value(t[i], pr) })
	case json.RawMessage:
		e.buf.Write(t)
	default:
		e.scalar(v)
	}
}

func (e *encoder) array(n int, elem func(int)) {
	e.buf.WriteByte('[')
	for i := 0; i < n; i++ {
		if i > 0 {
			e.buf.WriteByte(',')
		}
		elem(i)
	}
	e.buf.WriteByte(']')
}

func (e *encoder) scalar(v any) {
	switch t := v.(type) {
	case nil:
		e.buf.WriteString("null")
	case string:
		writeJSONString(e.buf, t)
	case bool:
		e.buf.WriteString(strconv.FormatBool(t))
	case int:
		e.buf.WriteString(strconv.Itoa(t))
	case int64:
		e.buf.WriteString(strconv.FormatInt(t, 10))
	default:
		b, err := json.Marshal(v)
		if err != nil {
			b = []byte("null")
		}
		e.buf.Write(b)
	}
}

// writeJSONString quotes s as json-lib does: no HTML escaping, control
// characters as \uXXXX.
func writeJSONString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

func (e *encoder) key(first *bool, name string) {
	if !*first {
		e.buf.WriteByte(',')
	}
	*first = false
	e.scalar(name)
	e.buf.WriteByte(':')
}

func clip[T any](s []T, lo, hi int) []T {
	if lo > len(s) {
		lo = len(s)
	}
	if hi < 0 || hi > len(s) {
		hi = len(s)
	}
	if hi < lo {
		hi = lo
	}
	return s[lo:hi]
}
