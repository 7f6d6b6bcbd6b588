package jenkinstest

import (
	"fmt"
	"os"
	"path/filepath"
)

// Binding classes of the credentials-binding plugin.
const (
	bindingString   = "org.jenkinsci.plugins.credentialsbinding.impl.StringBinding"
	bindingFile     = "org.jenkinsci.plugins.credentialsbinding.impl.FileBinding"
	bindingUserPass = "org.jenkinsci.plugins.credentialsbinding.impl.UsernamePasswordMultiBinding"
)

// bindingTypes is each binding's type(): the credentials interface the
// credential must implement.
var bindingTypes = map[string]string{
	bindingString:   "org.jenkinsci.plugins.plaincredentials.StringCredentials",
	bindingFile:     "org.jenkinsci.plugins.plaincredentials.FileCredentials",
	bindingUserPass: "com.cloudbees.plugins.credentials.common.StandardUsernamePasswordCredentials",
}

// credentialImplements lists the interfaces each credential class
// implements (IdTokenStringCredentials implements StringCredentials,
// IdTokenFileCredentials FileCredentials; oidc-provider).
var credentialImplements = map[string][]string{
	ClassIDTokenString:  {"org.jenkinsci.plugins.plaincredentials.StringCredentials"},
	ClassIDTokenFile:    {"org.jenkinsci.plugins.plaincredentials.FileCredentials"},
	ClassSecretText:     {"org.jenkinsci.plugins.plaincredentials.StringCredentials"},
	ClassSecretFile:     {"org.jenkinsci.plugins.plaincredentials.FileCredentials"},
	ClassUsernamePasswd: {"com.cloudbees.plugins.credentials.common.StandardUsernamePasswordCredentials"},
}

func credentialIs(class, iface string) bool {
	for _, i := range credentialImplements[class] {
		if i == iface {
			return true
		}
	}
	return false
}

// binding is one MultiBinding: its class, the credential and the
// variables it sets. Freestyle's SecretBuildWrapper and Pipeline's
// withCredentials both describe their bindings this way and share
// bindCredentials.
type binding struct {
	class            string
	credentialsID    string
	variable         string // StringBinding, FileBinding
	usernameVariable string // UsernamePasswordMultiBinding
	passwordVariable string
}

// bindingFromXML reads a binding from a SecretBuildWrapper's <bindings>.
func bindingFromXML(el *xnode) binding {
	return binding{
		class:            el.name,
		credentialsID:    el.childText("credentialsId"),
		variable:         el.childText("variable"),
		usernameVariable: el.childText("usernameVariable"),
		passwordVariable: el.childText("passwordVariable"),
	}
}

// bound is a binding's environment: the variables it sets, the values the
// console masks, and how to undo it.
type bound struct {
	vars       map[string]string
	secretVars []string // the MultiEnvironment's secret values' names, in order
	masks      []string
	dirs       []string // removed by unbind
}

// unbind removes what the binding wrote to disk (UnbindableDir's unbinder).
func (bd *bound) unbind() {
	for _, d := range bd.dirs {
		_ = os.RemoveAll(d)
	}
}

// bindCredentials resolves one binding for a build of job with workspace
// ws: MultiBinding.bind. env is the build's environment (the ID token's
// claims are minted from it).
func (j *Jenkins) bindCredentials(job *item, bd binding, env map[string]string, ws string) (*bound, error) {
	id := bd.credentialsID
	j.mu.Lock()
	c, owner := j.findCredential(job, id)
	if c == nil {
		j.mu.Unlock()
		return nil, javaError(fmt.Sprintf("Could not find credentials entry with ID '%s'", id))
	}
	if want, ok := bindingTypes[bd.class]; ok && !credentialIs(c.class, want) {
		j.mu.Unlock()
		// MultiBinding.getCredentials: type().isInstance(cred), before
		// the binding asks for the secret, else an AbortException naming
		// the descriptor's display name and, as the expected type is an
		// interface without a descriptor, its class name.
		return nil, javaError(fmt.Sprintf("Credentials '%s' is of type '%s' where '%s' was expected", id, credClasses[c.class].typeName, want))
	}
	var secret string
	var err error
	switch c.class {
	case ClassIDTokenString, ClassIDTokenFile:
		// A fresh token at every binding, as getSecret()/getContent() mint one.
		secret, err = j.mint(c, tokenIssuer(env["JENKINS_URL"], c, owner), env, true)
	case ClassSecretText:
		secret = c.secret
	case ClassSecretFile:
		secret = string(c.secretBytes)
	case ClassUsernamePasswd:
		secret = c.password
	}
	j.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out := &bound{vars: map[string]string{}}
	switch bd.class {
	case bindingString:
		out.vars[bd.variable] = secret
		out.secretVars = []string{bd.variable}
		out.masks = []string{secret}
		return out, nil
	case bindingFile:
		// AbstractOnDiskBinding + UnbindableDir: <ws>@tmp/secretFiles/<uuid>/
		// (0700), FileBinding.write: createTempFile("file", null), i.e.
		// file<random>.tmp, chmod 0400. The variable's value, the PATH, is
		// the secret the console masks; the content is not masked.
		dir := filepath.Join(ws+"@tmp", "secretFiles", newUUID())
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		out.dirs = []string{dir}
		f, err := os.CreateTemp(dir, "file*.tmp")
		if err != nil {
			return out, err
		}
		_, err = f.WriteString(secret)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(f.Name(), 0o400)
		}
		if err != nil {
			return out, err
		}
		out.vars[bd.variable] = f.Name()
		out.secretVars = []string{bd.variable}
		out.masks = []string{f.Name()}
		return out, nil
	case bindingUserPass:
		// UsernamePasswordMultiBinding.bind: a secret username goes into
		// secretValues before the password (LinkedHashMap order).
		out.vars[bd.usernameVariable] = c.username
		out.vars[bd.passwordVariable] = c.password
		if c.usernameSecret {
			out.secretVars = append(out.secretVars, bd.usernameVariable)
			out.masks = append(out.masks, c.username)
		}
		out.secretVars = append(out.secretVars, bd.passwordVariable)
		out.masks = append(out.masks, c.password)
		return out, nil
	}
	return nil, fmt.Errorf("jenkinstest does not emulate the binding %s", bd.class)
}
