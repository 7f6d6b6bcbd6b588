package spec

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// BenchmarkParse measures Load's cost on the realistic example and on
// generated specs, valid and full of errors, to show it stays linear.
//
//	go test -run '^$' -bench Parse -benchmem ./spec/
func BenchmarkParse(b *testing.B) {
	full, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
	}{{"full.yaml", full}}
	for _, n := range []int{1000, 10000} {
		var ok, bad strings.Builder
		ok.WriteString(base)
		bad.WriteString(base)
		for i := 0; i < n; i++ {
			fmt.Fprintf(&ok, "  - {name: folder-%d/job-%d, type: freestyle, repo: r, formats: [python], steps: [make]}\n", i%50, i)
			fmt.Fprintf(&bad, "  - {name: 'a?%d', type: x, formats: [bad, bad], steps: ['']}\n", i)
		}
		cases = append(cases,
			struct {
				name string
				data []byte
			}{fmt.Sprintf("valid-%d-jobs", n), []byte(ok.String())},
			struct {
				name string
				data []byte
			}{fmt.Sprintf("invalid-%d-jobs", n), []byte(bad.String())})
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.data)))
			b.ReportAllocs()
			for b.Loop() {
				_, _ = Parse("bench.yaml", tc.data, getenv)
			}
		})
	}
}
