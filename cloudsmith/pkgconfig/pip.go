package pkgconfig

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// pipUserConfigs are the files the user's pip would read that our
// PIP_CONFIG_FILE makes it skip, lowest priority first: an inherited
// PIP_CONFIG_FILE, and the user files (pip loads none of them when
// PIP_CONFIG_FILE names a file that exists: pip _internal/configuration.py
// iter_config_files), the legacy ~/.pip/pip.conf before
// $XDG_CONFIG_HOME/pip/pip.conf.
func (p *plan) pipUserConfigs() ([][]byte, error) {
	var paths []string
	if f := p.getenv("PIP_CONFIG_FILE"); f != "" && f != os.DevNull {
		paths = append(paths, f)
	}
	if home := p.getenv("HOME"); home != "" {
		xdg := p.getenv("XDG_CONFIG_HOME")
		if xdg == "" {
			xdg = filepath.Join(home, ".config")
		}
		paths = append(paths, filepath.Join(home, ".pip", "pip.conf"), filepath.Join(xdg, "pip", "pip.conf"))
	}
	var out [][]byte
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// pipIndexKeys are the settings that choose indexes: the user's are
// dropped (in every section, since [install] overrides [global] for pip
// install), so only the Cloudsmith index is used, as Cloudsmith advises
// against extra indexes (dependency confusion).
var pipIndexKeys = []string{"index-url", "extra-index-url", "no-index", "index_url", "extra_index_url", "no_index"}

// mergePipConfig writes the user's pip configuration files (in order)
// without their index settings, and ours in [global]. pip reads the file
// with configparser, which refuses a section or option given twice, so
// sections are merged and an option set again replaces the earlier one;
// trusted-host values are kept and ours added.
func mergePipConfig(users [][]byte, ours [][2]string) string {
	type option struct {
		key   string
		lines []string
	}
	type section struct {
		name string
		opts []*option
	}
	var sections []*section
	find := func(name string) *section {
		for _, s := range sections {
			if s.name == name {
				return s
			}
		}
		s := &section{name: name}
		sections = append(sections, s)
		return s
	}
	set := func(s *section, key string, lines []string) {
		for _, o := range s.opts {
			if o.key == key {
				o.lines = lines
				return
			}
		}
		s.opts = append(s.opts, &option{key, lines})
	}
	for _, file := range users {
		var cur *section
		var last *option
		for _, line := range strings.Split(strings.ReplaceAll(string(file), "\r\n", "\n"), "\n") {
			trimmed := strings.TrimSpace(line)
			switch {
			case trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';':
				continue
			case line[0] == ' ' || line[0] == '\t':
				if last != nil {
					last.lines = append(last.lines, line)
				}
				continue
			case strings.HasPrefix(trimmed, "[") && strings.HasSuffix(trimmed, "]"):
				cur, last = find(strings.TrimSpace(trimmed[1:len(trimmed)-1])), nil
				continue
			}
			if cur == nil {
				continue // configparser refuses options before a section
			}
			key, _, _ := strings.Cut(strings.ReplaceAll(trimmed, ":", "="), "=")
			key = strings.ToLower(strings.TrimSpace(key))
			if slices.Contains(pipIndexKeys, key) {
				last = nil // its continuation lines go with it
				continue
			}
			set(cur, key, []string{trimmed})
			last = cur.opts[len(cur.opts)-1]
		}
	}
	global := find("global")
	for _, kv := range ours {
		lines := []string{kv[0] + " = " + kv[1]}
		for _, o := range global.opts {
			if o.key == kv[0] && kv[0] == "trusted-host" && len(o.lines) > 0 {
				lines = append(o.lines, "    "+kv[1])
			}
		}
		set(global, kv[0], lines)
	}
	var b strings.Builder
	b.WriteString("# Written by cloudsmith-oidc: holds a short-lived Cloudsmith token.\n")
	// [global] first, as pip's own files put it.
	order := []*section{global}
	for _, s := range sections {
		if s != global {
			order = append(order, s)
		}
	}
	for _, s := range order {
		b.WriteString("[" + s.name + "]\n")
		for _, o := range s.opts {
			for _, l := range o.lines {
				b.WriteString(l + "\n")
			}
		}
	}
	return b.String()
}
