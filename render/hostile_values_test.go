package render

import "strings"

// hostileValues are put in every spec field that reaches a template.
var hostileValues = []string{
	`it's "quoted"`,
	"${HOME} $(id) `id` ${'$'}{x} $x",
	"'''",
	`"""`,
	`back\slash\`,
	`\u0027 \\u0027 \n`,
	"line1\nline2\r\nline3\ttab",
	"]]>",
	"&amp; &lt; &#x41; &nbsp;",
	"<!-- comment --> -->",
	"עברית \u202e RTL emoji 😀🎉 é ñ",
	"\u2028\u2029 separators",
	"%PATH% ^&|<> !x! ; --org evil --",
	strings.Repeat("x'\"\\$é😀", 1250), // 10,000 runes
}
