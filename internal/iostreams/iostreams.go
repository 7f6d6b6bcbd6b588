// Package iostreams carries a command's standard streams so that commands
// are testable: production code uses System, tests use Test and read back
// what was written.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the streams a command reads and writes. Commands never touch
// os.Stdin, os.Stdout or os.Stderr directly.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// IsTerminal reports whether Out is an interactive terminal (progress
	// bars and colour are only drawn there).
	IsTerminal bool
	// NoColor is set when the NO_COLOR convention (https://no-color.org) asks
	// for plain output, or Out is not a terminal.
	NoColor bool
	// Getenv reads the environment; tests replace it.
	Getenv func(string) string
}

// System returns the process's own streams.
func System() *IOStreams {
	tty := term.IsTerminal(int(os.Stdout.Fd()))
	_, noColor := os.LookupEnv("NO_COLOR")
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		IsTerminal: tty, NoColor: noColor || !tty,
		Getenv: os.Getenv,
	}
}

// Test returns streams backed by buffers, with an empty environment unless
// env is given, and the buffers for stdin, stdout and stderr.
func Test(env map[string]string) (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{
		In: in, Out: out, ErrOut: errOut, NoColor: true,
		Getenv: func(k string) string { return env[k] },
	}, in, out, errOut
}
