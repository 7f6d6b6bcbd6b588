package spec

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite spec/schema.json from Schema()")

// TestSchemaFileUpToDate keeps the committed schema.json (what editors
// fetch through SchemaID) equal to Schema(). Refresh with
// go test ./spec -run SchemaFile -update
func TestSchemaFileUpToDate(t *testing.T) {
	if *update {
		if err := os.WriteFile("schema.json", Schema(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("schema.json")
	if err != nil || !bytes.Equal(got, Schema()) {
		t.Errorf("spec/schema.json is stale (%v); run: go test ./spec -run SchemaFile -update", err)
	}
}

func schemaMap(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(Schema(), &m); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	return m
}

// TestSchemaMatchesStructs: the schema lists exactly the yaml keys of the Go
// structs, with the same required set, and every key is documented.
func TestSchemaMatchesStructs(t *testing.T) {
	root := schemaMap(t)
	if root["$schema"] != "https://json-schema.org/draft/2020-12/schema" || root["$id"] != SchemaID {
		t.Errorf("$schema/$id = %v %v", root["$schema"], root["$id"])
	}
	defs := root["$defs"].(map[string]any)
	used := map[string]bool{}
	var walk func(t reflect.Type, obj map[string]any)
	seen := map[reflect.Type]bool{}
	walk = func(typ reflect.Type, obj map[string]any) {
		if seen[typ] {
			return
		}
		seen[typ] = true
		props := obj["properties"].(map[string]any)
		var keys, required []string
		for _, f := range fieldsOf(typ) {
			keys = append(keys, f.key)
			if f.required {
				required = append(required, f.key)
			}
			docKey := typ.Name() + "." + f.key
			used[docKey] = true
			if fieldDocs[docKey].desc == "" {
				t.Errorf("%s has no description in fieldDocs", docKey)
			}
			ft := typ.Field(f.index).Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != secretType {
				walk(ft, defs[strings.ToLower(ft.Name())].(map[string]any))
			}
		}
		var got []string
		for k := range props {
			got = append(got, k)
		}
		slices.Sort(keys)
		slices.Sort(got)
		if !slices.Equal(keys, got) {
			t.Errorf("%s: schema keys %v, struct yaml keys %v", typ.Name(), got, keys)
		}
		var gotReq []string
		if r, ok := obj["required"].([]any); ok {
			for _, k := range r {
				gotReq = append(gotReq, k.(string))
			}
		}
		if !slices.Equal(gotReq, required) {
			t.Errorf("%s: schema required %v, struct %v", typ.Name(), gotReq, required)
		}
		if obj["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties must be false", typ.Name())
		}
	}
	walk(reflect.TypeOf(Spec{}), root)
	for k := range fieldDocs {
		if !used[k] {
			t.Errorf("fieldDocs has %q, which is no field", k)
		}
	}
}

func TestExamplesMatchSchema(t *testing.T) {
	root := schemaMap(t)
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		if errs := validate(root, root, doc, "$"); len(errs) > 0 {
			t.Errorf("%s does not match the schema:\n%s", f, strings.Join(errs, "\n"))
		}
	}
	// The validator itself must catch what the schema forbids.
	for _, bad := range []string{
		strings.Replace(base, "audience:", "audiance:", 1),
		strings.Replace(base, "type: freestyle", "type: maven", 1),
		strings.Replace(base, "${JENKINS_API_TOKEN}", "literal", 1),
		strings.Replace(base, "formats: [python]", "formats: [pythn]", 1),
		strings.Replace(base, "jobs:", "binary: {url: https://x}\njobs:", 1),
	} {
		var doc any
		if err := yaml.Unmarshal([]byte(bad), &doc); err != nil {
			t.Fatal(err)
		}
		if errs := validate(root, root, doc, "$"); len(errs) == 0 {
			t.Errorf("schema accepted:\n%s", bad)
		}
	}
}

// validate is a small JSON Schema checker covering the keywords Schema
// emits; enough to prove the examples and the schema agree.
func validate(root, s map[string]any, v any, at string) []string {
	var errs []string
	fail := func(f string, a ...any) { errs = append(errs, at+": "+fmt.Sprintf(f, a...)) }
	if ref, ok := s["$ref"].(string); ok {
		def := root["$defs"].(map[string]any)[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		errs = append(errs, validate(root, def, v, at)...)
	}
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			errs = append(errs, validate(root, sub.(map[string]any), v, at)...)
		}
	}
	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			fail("want object")
			return errs
		}
		props, _ := s["properties"].(map[string]any)
		for k, val := range m {
			if ps, ok := props[k].(map[string]any); ok {
				errs = append(errs, validate(root, ps, val, at+"."+k)...)
			} else if ap, ok := s["additionalProperties"].(map[string]any); ok {
				errs = append(errs, validate(root, ap, val, at+"."+k)...)
			} else if s["additionalProperties"] == false {
				fail("unexpected key %s", k)
			}
		}
		if dr, ok := s["dependentRequired"].(map[string]any); ok {
			for k, need := range dr {
				if _, ok := m[k]; ok {
					for _, n := range need.([]any) {
						if _, ok := m[n.(string)]; !ok {
							fail("%s needs %s", k, n)
						}
					}
				}
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			fail("want array")
			return errs
		}
		for i, item := range a {
			errs = append(errs, validate(root, s["items"].(map[string]any), item, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			fail("want string, got %T", v)
			return errs
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			fail("%q does not match %s", str, p)
		}
	case "integer":
		if _, ok := v.(int); !ok {
			fail("want integer")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			fail("want boolean")
		}
	}
	if m, ok := v.(map[string]any); ok {
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, ok := m[r.(string)]; !ok {
					fail("missing %s", r)
				}
			}
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		fail("%v not in %v", v, enum)
	}
	if c, ok := s["const"]; ok && fmt.Sprint(c) != fmt.Sprint(v) {
		fail("%v is not %v", v, c)
	}
	if one, ok := s["oneOf"].([]any); ok {
		n := 0
		for _, o := range one {
			if len(validate(root, o.(map[string]any), v, at)) == 0 {
				n++
			}
		}
		if n != 1 {
			fail("matches %d of oneOf", n)
		}
	}
	if cond, ok := s["if"].(map[string]any); ok && len(validate(root, cond, v, at)) == 0 {
		errs = append(errs, validate(root, s["then"].(map[string]any), v, at)...)
	}
	return errs
}
