package spec

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// The decoder walks yaml.Node trees itself instead of calling node.Decode:
// yaml.v3 reports type errors without columns, stops at the first unknown
// key below a custom unmarshaler, and expands aliases. Walking the nodes
// gives every problem a line and column and lets us report all of them.

// fieldInfo is one yaml-tagged struct field.
type fieldInfo struct {
	key      string
	index    int
	required bool // no omitempty in the yaml tag
}

// fieldsOf lists the yaml-visible fields of struct type t, in order.
func fieldsOf(t reflect.Type) []fieldInfo {
	var out []fieldInfo
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if !f.IsExported() || tag == "-" || tag == "" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		out = append(out, fieldInfo{key: name, index: i, required: !strings.Contains(opts, "omitempty")})
	}
	return out
}

// Field policies, keyed by "Type.key". Free text is passed through to the
// renderer unchanged (it escapes for XML and Groovy), including "${": in
// steps that is shell syntax. Multi-line fields may also hold \n and \t.
var (
	freeText = map[string]bool{
		"Job.description": true, "Job.steps": true, "Job.label": true,
		"OIDC.description": true, "Provider.name": true, "Provider.claims": true,
	}
	multiLine = map[string]bool{"Job.description": true, "Job.steps": true, "OIDC.description": true}
	// typedValues are the string maps whose values may also be YAML
	// integers and booleans, kept as JSON in decoder.typed by path.
	typedValues = map[string]bool{"Provider.claims": true}
)

var (
	secretType = reflect.TypeOf(Secret{})
	posType    = reflect.TypeOf(Pos{})
	varRef     = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)
	bareVarRef = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z0-9_]*)$`)
)

// envRefs are the non-secret fields that may also be one ${VAR} reference,
// read from the environment like a secret (the decoder records the
// variable's name by path). jenkins.user is one, so a seed job applies as
// the user of the credential it binds, never as a literal that can
// disagree with it.
var envRefs = map[string]bool{"Jenkins.user": true}

// envRef resolves s when it is a ${VAR} reference (recording the
// variable's name in d.refs) and returns it unchanged otherwise.
func (d *decoder) envRef(n *yaml.Node, path, s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	m := varRef.FindStringSubmatch(s)
	if m == nil {
		d.errs.add(nodePos(n), path, "write the value itself, or exactly one ${VAR} reference", "%s must be a literal or a single ${VAR} reference", path)
		return ""
	}
	d.refs[path] = m[1]
	if d.offline {
		// Unresolved: the reference itself stands in, as a secret's Ref
		// does; nothing connects with an offline spec.
		return s
	}
	val := d.getenv(m[1])
	if val == "" {
		d.errs.add(nodePos(n), path, fmt.Sprintf("export %s=... before running (validate --offline checks the file without it)", m[1]),
			"environment variable %s (used by %s) is not set or empty", m[1], path)
		return ""
	}
	return val
}

// secretEnv is the variable name suggested for each secret in hints.
var secretEnv = map[string]string{"Jenkins.token": "JENKINS_API_TOKEN", "Cloudsmith.api_key": "CLOUDSMITH_API_KEY"}

type decoder struct {
	errs    *errList
	getenv  func(string) string
	offline bool
	pos     map[string]Pos             // value node position by path
	keys    map[string]Pos             // key node position by path
	refs    map[string]string          // ${VAR} name by path, for envRefs fields
	typed   map[string]json.RawMessage // JSON of typedValues' non-strings by path
}

func nodePos(n *yaml.Node) Pos { return Pos{Line: n.Line, Column: n.Column} }

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!bool":
			return "a boolean"
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!null":
			return "null"
		}
		return "text"
	}
	return "nothing"
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// rejectAlias reports aliases. They are refused outright rather than
// expanded: expansion is how "billion laughs" files blow up memory, and a
// spec this small gains nothing from them.
func (d *decoder) rejectAlias(n *yaml.Node, path string) bool {
	if n.Kind != yaml.AliasNode {
		return false
	}
	d.errs.add(nodePos(n), path, "repeat the value, or put shared values under defaults:",
		"YAML aliases (*%s) are not supported", n.Value)
	return true
}

// value decodes n into v (settable), dispatching on v's type.
func (d *decoder) value(n *yaml.Node, path string, v reflect.Value, policy string) {
	if d.rejectAlias(n, path) {
		return
	}
	switch {
	case v.Type() == secretType:
		if s, ok := d.str(n, path, policy); ok {
			v.Set(reflect.ValueOf(d.secret(n, path, policy, s)))
		}
	case v.Kind() == reflect.String && envRefs[policy]:
		if s, ok := d.str(n, path, policy); ok {
			v.SetString(d.envRef(n, path, s))
		}
	case v.Kind() == reflect.String:
		if s, ok := d.str(n, path, policy); ok {
			v.SetString(s)
		}
	case v.Kind() == reflect.Int:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			d.errs.add(nodePos(n), path, "write a whole number without quotes, e.g. 1", "expected an integer, got %s", kindName(n))
			return
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 32)
		if err != nil {
			d.errs.add(nodePos(n), path, "write a small whole number, e.g. 1", "%q is not a usable integer", n.Value)
			return
		}
		v.SetInt(i)
	case v.Kind() == reflect.Bool:
		if b, ok := d.boolean(n, path); ok {
			v.SetBool(b)
		}
	case v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Bool:
		b, ok := d.boolean(n, path)
		if ok {
			v.Set(reflect.ValueOf(&b))
		}
	case v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Struct:
		nv := reflect.New(v.Type().Elem())
		if d.structure(n, path, nv.Elem()) {
			v.Set(nv)
		}
	case v.Kind() == reflect.Struct:
		d.structure(n, path, v)
	case v.Kind() == reflect.Slice:
		d.sequence(n, path, v, policy)
	case v.Kind() == reflect.Map:
		d.mapping(n, path, v, policy)
	default:
		// A new field type nobody taught the decoder: a programming error
		// that the schema test catches, reported rather than panicking.
		d.errs.add(nodePos(n), path, "report this as a bug", "field type %s is not supported by the spec decoder", v.Type())
	}
}

func (d *decoder) boolean(n *yaml.Node, path string) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err == nil {
			return b, true
		}
	}
	d.errs.add(nodePos(n), path, "write true or false (without quotes)", "expected true or false, got %s %s", kindName(n), quoteShort(n.Value))
	return false, false
}

// str decodes a scalar as text. Plain numbers and dates are taken verbatim
// (their source text, so "1.10" stays "1.10"); booleans are refused because
// yaml turns `on`-like words into true/false, rarely what was meant.
func (d *decoder) str(n *yaml.Node, path, policy string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.errs.add(nodePos(n), path, "write a single value here, quoted if it contains special characters", "expected text, got %s", kindName(n))
		return "", false
	}
	switch n.Tag {
	case "!!str", "!!int", "!!float", "!!timestamp":
	case "!!null":
		return "", false
	case "!!bool":
		d.errs.add(nodePos(n), path, fmt.Sprintf("quote it if you mean the text: \"%s\"", n.Value), "expected text, got the boolean %s", n.Value)
		return "", false
	default:
		d.errs.add(nodePos(n), path, "remove the tag; the spec uses plain YAML values", "YAML tag %s is not supported", n.Tag)
		return "", false
	}
	s := n.Value
	if !d.checkText(n, path, s, multiLine[policy]) {
		return "", false
	}
	if pastedFields[policy] && d.pastedSecret(n, path, s) {
		return "", false
	}
	if !freeText[policy] && secretEnv[policy] == "" && !envRefs[policy] && d.refusedRef(n, path, s) {
		return "", false
	}
	return s, true
}

// checkText refuses characters that Jenkins item names, XML 1.0 and
// terminals cannot carry: C0/C1 control characters (newline and tab only
// in multi-line fields) and the XML non-characters U+FFFE/U+FFFF.
func (d *decoder) checkText(n *yaml.Node, path, s string, multi bool) bool {
	for i, r := range s {
		bad := ""
		switch {
		case r == utf8.RuneError && !validAt(s, i):
			bad = "invalid UTF-8"
		case (r == '\n' || r == '\t') && multi:
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			bad = fmt.Sprintf("control character %U", r)
		case r == 0xFFFE || r == 0xFFFF:
			bad = fmt.Sprintf("non-character %U (not allowed in XML)", r)
		}
		if bad != "" {
			hint := "remove it; only description and steps may span lines"
			if multi {
				hint = "remove it; newlines and tabs are the only control characters allowed here"
			}
			d.errs.add(nodePos(n), path, hint, "contains a %s at offset %d", bad, i)
			return false
		}
	}
	return true
}

func validAt(s string, i int) bool {
	r, size := utf8.DecodeRuneInString(s[i:])
	return r != utf8.RuneError || size > 1
}

// refusedRef reports "${" in fields that are not read from the
// environment. Only secrets expand ${VAR}; a URL or id holding "${X}" is a
// user expecting expansion that will not happen, so it is an error rather
// than a value silently sent to Jenkins.
func (d *decoder) refusedRef(n *yaml.Node, path, s string) bool {
	if !strings.Contains(s, "${") {
		return false
	}
	d.errs.add(nodePos(n), path, "write the value itself; only jenkins.token and cloudsmith.api_key are read from the environment",
		"${...} is not expanded in %s", path)
	return true
}

// secret checks that s is exactly one ${VAR} reference and resolves it.
// The literal is never echoed: it may be a real token.
func (d *decoder) secret(n *yaml.Node, path, policy, s string) Secret {
	env := secretEnv[policy]
	m := varRef.FindStringSubmatch(s)
	switch {
	case m != nil:
	case bareVarRef.MatchString(s):
		d.errs.add(nodePos(n), path, fmt.Sprintf("write ${%s}", s[1:]), "%s must use the ${VAR} form with braces", path)
		return Secret{}
	case strings.Contains(s, "${"):
		d.errs.add(nodePos(n), path, fmt.Sprintf("write exactly %s: ${%s}, with nothing before or after it", path[strings.LastIndex(path, ".")+1:], env),
			"%s must be a single ${VAR} reference", path)
		return Secret{}
	default:
		d.errs.add(nodePos(n), path,
			fmt.Sprintf("replace the value with ${%s}, export %s before running, and rotate the secret if this file was ever committed", env, env),
			"%s holds a literal secret; secrets may only come from the environment", path)
		return Secret{}
	}
	ref := m[1]
	if d.offline {
		return NewSecret(ref, "")
	}
	val := d.getenv(ref)
	if val == "" {
		d.errs.add(nodePos(n), path, fmt.Sprintf("export %s=... before running (validate --offline checks the file without secrets)", ref),
			"environment variable %s (used by %s) is not set or empty", ref, path)
		return Secret{}
	}
	if strings.IndexFunc(val, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		d.errs.add(nodePos(n), path, fmt.Sprintf("strip the trailing newline, e.g. export %s=\"$(tr -d '\\n' < file)\"", ref),
			"environment variable %s (used by %s) contains a newline or control character", ref, path)
		return Secret{}
	}
	return NewSecret(ref, val)
}

func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strconv.Quote(s)
}

// key returns a mapping key's text, refusing merge keys, aliases and
// complex keys.
func (d *decoder) key(k *yaml.Node, path string) (string, bool) {
	if d.rejectAlias(k, path) {
		return "", false
	}
	if k.Kind != yaml.ScalarNode {
		d.errs.add(nodePos(k), path, "keys are plain names like url: or jobs:", "a key must be a name, got %s", kindName(k))
		return "", false
	}
	if k.Tag == "!!merge" {
		d.errs.add(nodePos(k), path, "write the keys out, or put shared values under defaults:", "YAML merge keys (<<) are not supported")
		return "", false
	}
	return k.Value, true
}

// structure decodes a mapping into struct v. It reports false when n is not
// a mapping at all.
func (d *decoder) structure(n *yaml.Node, path string, v reflect.Value) bool {
	if n.Kind != yaml.MappingNode {
		where := "here"
		if path != "" {
			where = "under " + path
		}
		d.errs.add(nodePos(n), path, fmt.Sprintf("write keys %s, e.g. %s", where, exampleKeys(v.Type())),
			"expected a mapping of keys, got %s", kindName(n))
		return false
	}
	t := v.Type()
	fields := fieldsOf(t)
	seen := d.pairs(n, path, func(name, child string, k, val *yaml.Node) {
		f := lookupField(fields, name)
		if f == nil {
			d.errs.add(nodePos(k), child, suggestKey(name, fields, mappingKeys(n)), "unknown key %q%s", name, inWhere(path))
			return
		}
		d.keys[child], d.pos[child] = nodePos(k), nodePos(val)
		policy := t.Name() + "." + name
		if isNull(val) {
			if f.required {
				d.errs.add(nodePos(k), child, missingHint(t, *f), "%s is required but empty", child)
			}
			return
		}
		fv := v.Field(f.index)
		d.value(val, child, fv, policy)
		if f.required && fv.Kind() == reflect.String && fv.String() == "" && !d.errs.related(child) {
			d.errs.add(nodePos(val), child, missingHint(t, *f), "%s must not be empty", child)
		}
	})
	for _, f := range fields {
		if f.required && seen[f.key] == nil {
			at := nodePos(n)
			if p, ok := d.keys[path]; ok {
				at = p
			}
			d.errs.add(at, joinPath(path, f.key), missingHint(t, f), "missing required key %q%s", f.key, inWhere(path))
		}
	}
	if pf, ok := t.FieldByName("Pos"); ok && pf.Type == posType {
		at := nodePos(n)
		at.File = d.errs.file
		v.FieldByIndex(pf.Index).Set(reflect.ValueOf(at))
	}
	return true
}

func inWhere(path string) string {
	if path == "" {
		return " at the top level"
	}
	return " in " + path
}

func lookupField(fields []fieldInfo, key string) *fieldInfo {
	for i := range fields {
		if fields[i].key == key {
			return &fields[i]
		}
	}
	return nil
}

func (d *decoder) sequence(n *yaml.Node, path string, v reflect.Value, policy string) {
	if n.Kind != yaml.SequenceNode {
		hint := "write a list, e.g. [a, b] or one \"- item\" per line"
		if n.Kind == yaml.ScalarNode && v.Type().Elem().Kind() == reflect.String {
			hint = fmt.Sprintf("write a list even for one item: [%s]", n.Value)
		}
		d.errs.add(nodePos(n), path, hint, "expected a list, got %s", kindName(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), 0, len(n.Content))
	for i, item := range n.Content {
		ip := fmt.Sprintf("%s[%d]", path, i)
		d.pos[ip] = nodePos(item)
		if isNull(item) {
			d.errs.add(nodePos(item), ip, "remove the empty \"-\" line or give it a value", "empty list item")
			continue
		}
		ev := reflect.New(v.Type().Elem()).Elem()
		before := len(d.errs.errs)
		d.value(item, ip, ev, policy)
		if len(d.errs.errs) == before {
			out = reflect.Append(out, ev)
		} else if ev.Kind() == reflect.Struct && item.Kind == yaml.MappingNode {
			// Keep a partly decoded job so later checks (duplicates,
			// folders) still see it; its own errors are already reported.
			out = reflect.Append(out, ev)
		}
	}
	v.Set(out)
}

func (d *decoder) mapping(n *yaml.Node, path string, v reflect.Value, policy string) {
	if n.Kind != yaml.MappingNode {
		d.errs.add(nodePos(n), path, "write name: value pairs, e.g. {aud: jenkins}", "expected a mapping, got %s", kindName(n))
		return
	}
	out := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	d.pairs(n, path, func(name, child string, k, val *yaml.Node) {
		d.keys[child], d.pos[child] = nodePos(k), nodePos(val)
		if !d.checkText(k, child, name, false) {
			return
		}
		if name == "" {
			d.errs.add(nodePos(k), child, "give the key a name", "empty key%s", inWhere(path))
			return
		}
		if d.rejectAlias(val, child) {
			return
		}
		if et := v.Type().Elem(); et.Kind() == reflect.Struct {
			ev := reflect.New(et).Elem()
			if d.structure(val, child, ev) {
				out.SetMapIndex(reflect.ValueOf(name), ev)
			}
			return
		}
		if typedValues[policy] && val.Kind == yaml.ScalarNode && (val.Tag == "!!int" || val.Tag == "!!bool") {
			if raw, ok := d.typedScalar(val, child); ok {
				d.typed[child] = raw
				out.SetMapIndex(reflect.ValueOf(name), reflect.ValueOf(string(raw)))
			}
			return
		}
		if typedValues[policy] && (val.Kind != yaml.ScalarNode || val.Tag != "!!str") {
			d.errs.add(nodePos(val), child, fmt.Sprintf("quote the value if it is text: %s: \"%s\"", name, val.Value),
				"%s must be text, a whole number or true/false (compared with the token's claim as JSON), got %s", child, kindName(val))
			return
		}
		if val.Kind != yaml.ScalarNode || val.Tag != "!!str" {
			d.errs.add(nodePos(val), child, fmt.Sprintf("quote the value: %s: \"%s\"", name, val.Value),
				"%s must be text (values are compared as strings), got %s", child, kindName(val))
			return
		}
		s, ok := d.str(val, child, policy)
		if ok {
			out.SetMapIndex(reflect.ValueOf(name), reflect.ValueOf(s))
		}
	})
	v.Set(out)
}

// typedScalar is an !!int or !!bool scalar as canonical JSON (0x1F is 31,
// True is true).
func (d *decoder) typedScalar(n *yaml.Node, path string) (json.RawMessage, bool) {
	if n.Tag == "!!bool" {
		b, ok := d.boolean(n, path)
		return json.RawMessage(strconv.FormatBool(b)), ok
	}
	i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if err != nil {
		d.errs.add(nodePos(n), path, "quote it to compare it as text", "%q is not a usable whole number", n.Value)
		return nil, false
	}
	return json.RawMessage(strconv.FormatInt(i, 10)), true
}

// typedUnder returns the typed values whose path is under prefix, keyed
// by the rest of the path; nil when there are none.
func (d *decoder) typedUnder(prefix string) map[string]json.RawMessage {
	var out map[string]json.RawMessage
	for path, raw := range d.typed {
		if k, ok := strings.CutPrefix(path, prefix); ok {
			if out == nil {
				out = map[string]json.RawMessage{}
			}
			out[k] = raw
		}
	}
	return out
}

// pairs calls fn for each key/value of mapping n whose key is a plain,
// first-seen name, reporting the others; it returns the keys seen.
func (d *decoder) pairs(n *yaml.Node, path string, fn func(name, child string, k, val *yaml.Node)) map[string]*yaml.Node {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		name, ok := d.key(k, path)
		if !ok {
			continue
		}
		child := joinPath(path, name)
		if prev, dup := seen[name]; dup {
			d.errs.add(nodePos(k), child, "remove one of them",
				"duplicate key %q (first defined at line %d, column %d)", name, prev.Line, prev.Column)
			continue
		}
		seen[name] = k
		fn(name, child, k, val)
	}
	return seen
}

// suggestKey proposes the nearest known key ("did you mean 'audience'?"),
// or lists the known keys when nothing is close. A key the mapping already
// sets (present) is never suggested: renaming to it would only make a
// duplicate.
func suggestKey(name string, fields []fieldInfo, present map[string]bool) string {
	best, bestD := "", 1<<30
	taken, takenD := "", 1<<30
	for _, f := range fields {
		d := editDistance(strings.ToLower(name), strings.ToLower(f.key))
		switch {
		case present[f.key]:
			if d < takenD {
				taken, takenD = f.key, d
			}
		case d < bestD:
			best, bestD = f.key, d
		}
	}
	close := func(d int) bool { return d <= 2 || d <= len(name)/3 }
	if best != "" && close(bestD) {
		return fmt.Sprintf("did you mean %q?", best)
	}
	if taken != "" && close(takenD) {
		return fmt.Sprintf("remove it: %q, the key it looks like, is already set here", taken)
	}
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	return "known keys here: " + strings.Join(keys, ", ")
}

// mappingKeys is the set of keys mapping n sets.
func mappingKeys(n *yaml.Node) map[string]bool {
	keys := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		keys[n.Content[i].Value] = true
	}
	return keys
}

// editDistance is the Levenshtein distance, bounded to short keys (long
// garbage keys are not worth comparing).
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 20
	}
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// missingHint shows the key with an example value from the field docs.
func missingHint(t reflect.Type, f fieldInfo) string {
	doc, ok := fieldDocs[t.Name()+"."+f.key]
	if ok && doc.example != "" {
		return fmt.Sprintf("add `%s: %s`", f.key, doc.example)
	}
	return fmt.Sprintf("add %s: with a value (see `jenkins-cloudsmith schema`)", f.key)
}

func exampleKeys(t reflect.Type) string {
	var keys []string
	for _, f := range fieldsOf(t) {
		if f.required {
			keys = append(keys, f.key+":")
		}
	}
	if len(keys) == 0 {
		for _, f := range fieldsOf(t) {
			keys = append(keys, f.key+":")
		}
	}
	if len(keys) > 3 {
		keys = keys[:3]
	}
	return strings.Join(keys, ", ")
}
