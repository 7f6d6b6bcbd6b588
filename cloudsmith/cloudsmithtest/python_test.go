package cloudsmithtest

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"mime/multipart"
	"net/http"
	"testing"
)

// TestPythonUploadRules pins what warehouse's legacy upload API (the one
// twine posts to) refuses besides bad digests: an unknown
// protocol_version, an upload without any digest, a missing or unknown
// filetype or one the file's extension contradicts, and a missing
// metadata_version. twine 4 sends all of them.
func TestPythonUploadRules(t *testing.T) {
	s := startWithToken(t)
	data := []byte("not really a tarball")
	m5, s256 := md5.Sum(data), sha256.Sum256(data)
	valid := func() map[string]string {
		return map[string]string{
			":action": "file_upload", "protocol_version": "1", "name": "hello-up", "version": "2.0.0",
			"filetype": "sdist", "metadata_version": "2.1", "pyversion": "source",
			"md5_digest": hex.EncodeToString(m5[:]), "sha256_digest": hex.EncodeToString(s256[:]),
		}
	}
	cases := []struct {
		name   string
		change map[string]string
		file   string
		status int
	}{
		{"unknown protocol version", map[string]string{"protocol_version": "2"}, "", 400},
		{"no digest", map[string]string{"md5_digest": "", "sha256_digest": ""}, "", 400},
		{"no filetype", map[string]string{"filetype": ""}, "", 400},
		{"egg", map[string]string{"filetype": "bdist_egg"}, "", 400},
		{"wheel filetype for an sdist", map[string]string{"filetype": "bdist_wheel"}, "", 400},
		{"sdist filetype for a wheel", nil, "hello_up-2.0.0-py3-none-any.whl", 400},
		{"no metadata version", map[string]string{"metadata_version": ""}, "", 400},
		{"only a sha256", map[string]string{"md5_digest": ""}, "", 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fields := valid()
			for k, v := range c.change {
				if v == "" {
					delete(fields, k)
				} else {
					fields[k] = v
				}
			}
			file := c.file
			if file == "" {
				file = "hello-up-2.0.0.tar.gz"
			}
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			for k, v := range fields {
				_ = mw.WriteField(k, v)
			}
			fw, _ := mw.CreateFormFile("content", file)
			_, _ = fw.Write(data)
			_ = mw.Close()
			req, _ := http.NewRequest(http.MethodPost, s.PythonUploadURL(), &body)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			req.SetBasicAuth("token", s.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Errorf("upload: %d, want %d", resp.StatusCode, c.status)
			}
		})
	}
}
