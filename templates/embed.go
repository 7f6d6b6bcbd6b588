// Package templates holds the text/template files jenkins-cloudsmith renders
// everything a user's Jenkins runs from: job and folder config.xml, the
// Jenkinsfiles, the OIDC credential payloads and the vars/ shared-library
// steps. They are embedded in the binary; package render parses them, and
// any file can be replaced by one at the same relative path under a
// templates directory (spec templates_dir or --templates DIR).
//
// Templates may print a value only through render's escaping functions
// (xml, xmlAttr, groovy, groovyList, sh, json); render's tests walk every
// template's parse tree to enforce it. Files whose base name starts with
// "_" only hold {{define}} blocks shared by the others.
package templates

import (
	"embed"
	"io/fs"
)

//go:embed *.tmpl job/*.tmpl credential/*.tmpl vars/*.tmpl
var files embed.FS

// FS returns the embedded templates; every file's name ends in ".tmpl".
func FS() fs.FS { return files }
