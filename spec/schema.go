package spec

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/cloudsmith/pkgconfig"
)

// SchemaID is the $id of the JSON Schema: where the committed copy
// (spec/schema.json, kept current by TestSchemaFileUpToDate) is served, so
// a yaml-language-server modeline can point at it.
const SchemaID = "https://raw.githubusercontent.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/main/spec/schema.json"

// withHostDocs adds the docs of cloudsmith's host keys, from pkgconfig's
// table of hosts.
func withHostDocs(docs map[string]fieldDoc) map[string]fieldDoc {
	for _, e := range pkgconfig.Endpoints() {
		extra := uriFormat
		if e.Bare {
			extra = map[string]any{"pattern": bareHostRe.String()}
		}
		docs["Cloudsmith."+e.Key] = fieldDoc{"Override of the " + e.Serves + " for a custom domain or an emulator (cloudsmith-oidc's " + e.Env() + "). Default " + e.Default + ".", e.Default, extra}
	}
	return docs
}

// fieldDoc documents one spec key: the description editors show on hover,
// an example used in hints and completion, and extra JSON Schema keywords.
type fieldDoc struct {
	desc    string
	example string
	extra   map[string]any
}

var (
	itemPathPattern = `^[^?*/\\%!@#$^&|<>\[\]:;]+(/[^?*/\\%!@#$^&|<>\[\]:;]+)*$`
	slugPattern     = slugRe.String()
	credPattern     = credentialID.String()
	uriFormat       = map[string]any{"format": "uri", "pattern": "^https?://"}
)

// fieldDocs is keyed by "GoType.yamlkey". A test fails when a field has no
// entry or an entry names no field, so docs and structs cannot drift.
var fieldDocs = withHostDocs(map[string]fieldDoc{
	"Spec.version":               {"Spec format version; must be 1.", "1", map[string]any{"const": Version}},
	"Spec.id":                    {"Identity of this spec in Jenkins. The jobs and credential it creates are marked as owned by it, so another spec's prune, plan and --adopt leave them alone; keep it when renaming or moving the file. Default: <oidc.folder>/<oidc.credential>.", "team-a", map[string]any{"pattern": specIDRe.String(), "maxLength": maxSpecID}},
	"Spec.jenkins":               {"The Jenkins controller to manage and how to log in.", "", nil},
	"Spec.cloudsmith":            {"The Cloudsmith organisation and service account builds exchange their OIDC token into.", "", nil},
	"Spec.oidc":                  {"The oidc-provider credential that mints each build's ID token.", "", nil},
	"Spec.binary":                {"How agents get the cloudsmith-oidc step binary. Omit to use cloudsmith-oidc from PATH.", "", nil},
	"Spec.defaults":              {"Values for jobs that leave repo or formats out.", "", nil},
	"Spec.jobs":                  {"Jenkins jobs to manage. Names are unique case-insensitively, as in Jenkins.", "", nil},
	"Spec.seed":                  {"Optional pipeline job that re-applies this spec from its repository.", "", nil},
	"Spec.library":               {"Where the Jenkinsfiles load the vars/ steps from. Omit for a Global Trusted Pipeline Library named jenkins-cloudsmith; set remote and version to load it from git in every Jenkinsfile (no administrator needed; runs in the sandbox).", "", nil},
	"Library.name":               {"Library name. Default " + DefaultLibraryName + ".", DefaultLibraryName, map[string]any{"pattern": libraryNameRe.String()}},
	"Library.remote":             {"Git repository holding vars/ (https://, ssh://, git:// or user@host:path); each Jenkinsfile loads it with the library step.", "https://git.example.com/jenkins-cloudsmith-oidc.git", nil},
	"Library.version":            {"Branch, tag or commit of the library to load; required with remote.", "v1.0.0", nil},
	"Library.credentials_id":     {"Jenkins credential id used to clone remote.", "git-read", map[string]any{"pattern": credPattern}},
	"Binary.platforms":           {"Per-platform downloads (os/arch: {url, sha256}); each agent runs the one for its OS and architecture.", "", map[string]any{"propertyNames": map[string]any{"enum": Platforms}}},
	"Download.url":               {"https URL of this platform's cloudsmith-oidc.", "https://downloads.example.com/cloudsmith-oidc-linux-amd64", uriFormat},
	"Download.sha256":            {"SHA-256 of this platform's binary, 64 hex digits.", "", map[string]any{"pattern": sha256Re.String()}},
	"Seed.cloudsmith_credential": {"Jenkins secret-text credential holding the Cloudsmith API key; required with cloudsmith.api_key.", "cloudsmith-api-key", map[string]any{"pattern": credPattern}},
	"Spec.templates_dir":         {"Directory of template overrides, relative to this file.", "templates", nil},
	"Jenkins.url":                {"Jenkins root URL. https, or http only for 127.0.0.1/::1/localhost.", "https://jenkins.example.com/", uriFormat},
	"Jenkins.user":               {"Jenkins user id that owns the API token, or one ${VAR} reference (a seed job sets it from its credential).", "automation", nil},
	"Jenkins.token":              {"The user's API token, only as a ${VAR} environment reference; a literal is an error.", "${JENKINS_API_TOKEN}", nil},
	"Jenkins.ca_bundle":          {"PEM file of extra CA roots for a controller behind a private CA (relative to this file). TLS is always verified.", "ca.pem", nil},
	"Jenkins.proxy":              {"Proxy URL for the controller (http, https or socks5), overriding HTTPS_PROXY. No credentials.", "http://proxy.example.com:3128", map[string]any{"format": "uri"}},
	"Cloudsmith.org":             {"Cloudsmith organisation slug.", "acme", map[string]any{"pattern": slugPattern}},
	"Cloudsmith.service":         {"Service account builds exchange their OIDC token into: its name or its slug. apply creates it under this name when the org has none and gives builds the slug Cloudsmith assigns (which may carry random characters, e.g. jenkins-ci-dvha).", "jenkins-ci", map[string]any{"pattern": slugPattern}},
	"Cloudsmith.api_key":         {"Optional API key, as a ${VAR} reference, to manage the service account and OIDC provider.", "${CLOUDSMITH_API_KEY}", nil},
	"Cloudsmith.provider":        {"The Cloudsmith OIDC provider that trusts this Jenkins' issuer.", "", nil},
	"Cloudsmith.proxy":           {"Proxy URL for the Cloudsmith API (http, https or socks5), overriding HTTPS_PROXY. No credentials.", "http://proxy.example.com:3128", map[string]any{"format": "uri"}},
	"Cloudsmith.ca_bundle":       {"PEM file of extra CA roots for a Cloudsmith custom domain (relative to this file).", "ca.pem", nil},
	"Provider.name":              {"Provider display name in Cloudsmith.", "jenkins", nil},
	"Provider.claims": {"Claims every token must carry: exact values (a whole number or true/false is compared as one, e.g. build_number: 1), or a text prefix ending in '.*'.", "",
		map[string]any{"additionalProperties": map[string]any{"type": []string{"string", "integer", "boolean"}}}},
	"OIDC.credential":    {"Jenkins credential id of the OIDC ID token credential (letters, digits, _ . -).", "oidc-token-cred", map[string]any{"pattern": credPattern}},
	"OIDC.kind":          {"string: token bound as text (IdTokenStringCredentials); file: as a file (IdTokenFileCredentials). Default string.", "string", map[string]any{"enum": []string{KindString, KindFile}}},
	"OIDC.audience":      {"The token's aud claim; put the same value in the provider's claims.", "jenkins", nil},
	"OIDC.description":   {"Credential description shown in Jenkins.", "Cloudsmith OIDC", nil},
	"OIDC.issuer":        {"Custom public issuer URL (https, no query, fragment or trailing slash). Default: <jenkins.url>oidc.", "https://oidc.example.com", uriFormat},
	"OIDC.folder":        {"Put the credential in this folder's store (full name, e.g. team-a/sub); all jobs must be inside it.", "team-a", map[string]any{"pattern": itemPathPattern}},
	"Binary.path":        {"Command or path of cloudsmith-oidc already on the agents.", DefaultBinaryPath, nil},
	"Binary.url":         {"https URL agents download cloudsmith-oidc from; requires sha256.", "https://downloads.example.com/cloudsmith-oidc", uriFormat},
	"Binary.sha256":      {"SHA-256 of the downloaded binary, 64 hex digits.", "", map[string]any{"pattern": sha256Re.String()}},
	"Defaults.repo":      {"Cloudsmith repository slug for jobs without repo.", "python-internal", map[string]any{"pattern": slugPattern}},
	"Defaults.formats":   {"Package formats for jobs without formats.", "[python]", nil},
	"Job.name":           {"Job full name; '/' separates folders. Jenkins refuses ?*/\\%!@#$^&|<>[]:; inside a name.", "team-a/build-wheel", map[string]any{"pattern": itemPathPattern}},
	"Job.type":           {"freestyle or pipeline.", "pipeline", map[string]any{"enum": []string{Freestyle, Pipeline}}},
	"Job.description":    {"Job description shown in Jenkins (any text).", "Builds the wheel", nil},
	"Job.repo":           {"Cloudsmith repository slug; default defaults.repo.", "python-internal", map[string]any{"pattern": slugPattern}},
	"Job.formats":        {"Package formats to configure; default defaults.formats.", "[python, npm]", nil},
	"Job.publish":        {"The job uploads packages to its repo: apply grants the service account Write on that repository (Read otherwise). Default false.", "true", nil},
	"Job.steps":          {"Shell commands run with Cloudsmith configured (any text, passed through unchanged).", "[\"pip install -r requirements.txt\"]", nil},
	"Job.scm":            {"Pipeline only: read the Jenkinsfile from Git instead of generating it from steps.", "", nil},
	"Job.label":          {"Agent label expression the job runs on.", "linux", nil},
	"SCM.url":            {"Git repository URL (https://, ssh://, git:// or user@host:path).", "https://git.example.com/team/app.git", nil},
	"SCM.branch":         {"Branch to build.", "main", nil},
	"SCM.script_path":    {"Path of the Jenkinsfile inside the repository. Default Jenkinsfile.", "Jenkinsfile", nil},
	"SCM.credentials_id": {"Jenkins credential id used to clone.", "git-ssh", map[string]any{"pattern": credPattern}},
	"SCM.lightweight":    {"Lightweight checkout of the Jenkinsfile only.", "true", nil},
	"Seed.name":          {"Full name of the seed job.", "jenkins-cloudsmith-seed", map[string]any{"pattern": itemPathPattern}},
	"Seed.scm":           {"Repository holding this spec.", "", nil},
	"Seed.spec_path":     {"Path of this spec inside the repository.", "jenkins-cloudsmith.yaml", nil},
	"Seed.credential":    {"Jenkins credential id (username + API token) the seed job applies with.", "jenkins-cloudsmith-apply", map[string]any{"pattern": credPattern}},
})

// structExtras add the rules that span several keys of one object.
var structExtras = map[string]map[string]any{
	"Binary": {
		"oneOf":             []any{map[string]any{"required": []string{"path"}}, map[string]any{"required": []string{"url"}}, map[string]any{"required": []string{"platforms"}}},
		"dependentRequired": map[string]any{"url": []string{"sha256"}, "sha256": []string{"url"}},
		// The draft-07 spelling of dependentRequired, for editors on draft-07.
		"dependencies": map[string]any{"url": []string{"sha256"}, "sha256": []string{"url"}},
	},
	"Job": {
		"if":   map[string]any{"required": []string{"scm"}},
		"then": map[string]any{"properties": map[string]any{"type": map[string]any{"const": Pipeline}}},
	},
}

// Schema returns the JSON Schema (draft 2020-12) of the spec, generated
// from the Go types and fieldDocs so it always lists exactly the keys Load
// accepts. Editors use it for completion and inline checks; Load remains
// the authority (it also checks what a schema cannot, like duplicates).
func Schema() []byte {
	defs := map[string]any{}
	root := objectSchema(reflect.TypeOf(Spec{}), defs)
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = SchemaID
	root["title"] = "jenkins-cloudsmith spec"
	root["description"] = "One file describing the Jenkins OIDC credential, Cloudsmith service and jobs that jenkins-cloudsmith manages."
	root["$defs"] = defs
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		// Only maps, slices and strings are marshalled: cannot fail.
		panic("spec: marshal schema: " + err.Error())
	}
	return append(b, '\n')
}

func objectSchema(t reflect.Type, defs map[string]any) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range fieldsOf(t) {
		doc := fieldDocs[t.Name()+"."+f.key]
		fs := typeSchema(t.Field(f.index).Type, defs)
		if ref, ok := fs["$ref"]; ok {
			// Draft-07 tools (yaml-language-server) ignore keywords beside
			// $ref, which would hide the description; allOf keeps both.
			fs = map[string]any{"allOf": []any{map[string]any{"$ref": ref}}}
		}
		if f.key == "formats" {
			fs["items"] = map[string]any{"enum": Formats}
			fs["uniqueItems"] = true
		}
		for k, v := range doc.extra {
			fs[k] = v
		}
		fs["description"] = doc.desc
		if doc.example != "" && fs["type"] == "string" {
			fs["examples"] = []string{doc.example}
		}
		if f.required && fs["type"] == "string" {
			fs["minLength"] = 1
		}
		props[f.key] = fs
		if f.required {
			required = append(required, f.key)
		}
	}
	out := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		out["required"] = required
	}
	for k, v := range structExtras[t.Name()] {
		out[k] = v
	}
	return out
}

func typeSchema(t reflect.Type, defs map[string]any) map[string]any {
	switch {
	case t == secretType:
		return map[string]any{"type": "string", "pattern": varRef.String()}
	case t.Kind() == reflect.String:
		return map[string]any{"type": "string"}
	case t.Kind() == reflect.Int:
		return map[string]any{"type": "integer"}
	case t.Kind() == reflect.Bool, t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Bool:
		return map[string]any{"type": "boolean"}
	case t.Kind() == reflect.Pointer:
		return typeSchema(t.Elem(), defs)
	case t.Kind() == reflect.Struct:
		name := strings.ToLower(t.Name())
		if _, ok := defs[name]; !ok {
			defs[name] = nil // reserve against recursion
			defs[name] = objectSchema(t, defs)
		}
		return map[string]any{"$ref": "#/$defs/" + name}
	case t.Kind() == reflect.Slice:
		return map[string]any{"type": "array", "items": typeSchema(t.Elem(), defs)}
	case t.Kind() == reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": typeSchema(t.Elem(), defs)}
	}
	return map[string]any{}
}
