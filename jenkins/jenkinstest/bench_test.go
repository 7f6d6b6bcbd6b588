package jenkinstest

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkCreateItem measures one createItem through the handler (no
// network), the emulator's cost per job in an apply benchmark.
func BenchmarkCreateItem(b *testing.B) {
	j := New()
	defer j.Close()
	tok := j.AdminToken()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		req := httptest.NewRequest("POST", "/createItem?name=job"+strconv.Itoa(i), strings.NewReader(freestyleXML))
		req.SetBasicAuth("admin", tok)
		req.Header.Set("Content-Type", "application/xml")
		rec := httptest.NewRecorder()
		j.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}

// BenchmarkListJobs1000 measures the one-request recursive listing of
// 1,000 jobs in 10 folders.
func BenchmarkListJobs1000(b *testing.B) {
	j := New()
	defer j.Close()
	tok := j.AdminToken()
	do := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.SetBasicAuth("admin", tok)
		req.Header.Set("Content-Type", "application/xml")
		rec := httptest.NewRecorder()
		j.ServeHTTP(rec, req)
		return rec
	}
	for f := 0; f < 10; f++ {
		do("POST", "/createItem?name=f"+strconv.Itoa(f), folderXML)
		for i := 0; i < 100; i++ {
			do("POST", "/job/f"+strconv.Itoa(f)+"/createItem?name=j"+strconv.Itoa(i), freestyleXML)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		rec := do("GET", "/api/json?tree=jobs[name,fullName,_class,description,jobs[name,fullName,_class,description]]", "")
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
