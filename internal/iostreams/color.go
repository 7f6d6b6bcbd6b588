package iostreams

// ColorScheme is the one palette every view paints with. It paints only
// when colour is on (a terminal without NO_COLOR), so views call it
// unconditionally and tests see plain text.
type ColorScheme struct {
	enabled bool
}

// NewColorScheme returns a scheme that paints when enabled is true.
func NewColorScheme(enabled bool) *ColorScheme { return &ColorScheme{enabled: enabled} }

// ColorScheme returns the palette for s's output stream.
func (s *IOStreams) ColorScheme() *ColorScheme { return NewColorScheme(!s.NoColor) }

// Enabled reports whether the scheme paints.
func (c *ColorScheme) Enabled() bool { return c != nil && c.enabled }

// SGR parameters of the colours and styles views use.
const (
	sgrBold    = "1"
	sgrRed     = "31"
	sgrGreen   = "32"
	sgrYellow  = "33"
	sgrMagenta = "35"
)

func (c *ColorScheme) paint(s string, sgr ...string) string {
	if !c.Enabled() || s == "" {
		return s
	}
	code := ""
	for i, p := range sgr {
		if i > 0 {
			code += ";"
		}
		code += p
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// Red paints s red: failures, deletions.
func (c *ColorScheme) Red(s string) string { return c.paint(s, sgrRed) }

// Green paints s green: success, creations.
func (c *ColorScheme) Green(s string) string { return c.paint(s, sgrGreen) }

// Yellow paints s yellow: warnings, updates.
func (c *ColorScheme) Yellow(s string) string { return c.paint(s, sgrYellow) }

// Magenta paints s magenta: diff hunks.
func (c *ColorScheme) Magenta(s string) string { return c.paint(s, sgrMagenta) }

// Bold makes s bold: headings.
func (c *ColorScheme) Bold(s string) string { return c.paint(s, sgrBold) }

// BoldRed paints s bold red: a refusal, a failed run.
func (c *ColorScheme) BoldRed(s string) string { return c.paint(s, sgrRed, sgrBold) }

// BoldGreen paints s bold green: a passed run.
func (c *ColorScheme) BoldGreen(s string) string { return c.paint(s, sgrGreen, sgrBold) }

// BoldMagenta paints s bold magenta: something that needs the reader's
// attention (a new signing key).
func (c *ColorScheme) BoldMagenta(s string) string { return c.paint(s, sgrMagenta, sgrBold) }
