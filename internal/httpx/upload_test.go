package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestUploadNeverSentBlindTwice: an upload (even a PUT) is sent once
// unless a land check says the failed attempt did not land; a 429 is
// retried without asking, since the server refused it before any work.
func TestUploadNeverSentBlindTwice(t *testing.T) {
	errCheck := errors.New("listing packages: 500")
	tests := []struct {
		name      string
		statuses  []int
		check     LandCheck
		sends     int
		checks    int
		wantErr   error
		wantCode  int
		sendsOnce bool
	}{
		{name: "no check: sent once", statuses: []int{503, 200}, sends: 1, wantCode: 503, sendsOnce: true},
		{name: "did not land: sent again", statuses: []int{503, 200}, check: func(context.Context) (bool, error) { return false, nil }, sends: 2, checks: 1, wantCode: 200},
		{name: "landed: not sent again", statuses: []int{503, 200}, check: func(context.Context) (bool, error) { return true, nil }, sends: 1, checks: 1, wantErr: ErrLanded},
		{name: "check fails: not sent again", statuses: []int{502, 200}, check: func(context.Context) (bool, error) { return false, errCheck }, sends: 1, checks: 1, wantErr: errCheck},
		{name: "429 retried without a check", statuses: []int{429, 200}, check: func(context.Context) (bool, error) { t.Error("check asked after a 429"); return false, nil }, sends: 2, wantCode: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sends, checks atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := min(int(sends.Add(1))-1, len(tt.statuses)-1)
				if b, _ := io.ReadAll(r.Body); string(b) != "wheel" {
					t.Errorf("send %d had body %q", i+1, b)
				}
				if tt.statuses[i] == 429 {
					w.Header().Set("Retry-After", "0")
				}
				w.WriteHeader(tt.statuses[i])
			}))
			defer srv.Close()
			var check LandCheck
			if tt.check != nil {
				check = func(ctx context.Context) (bool, error) { checks.Add(1); return tt.check(ctx) }
			}
			ctx := Upload(context.Background(), check)
			if got := SentOnce(ctx); got != tt.sendsOnce {
				t.Errorf("SentOnce = %v, want %v (a client's own retry loop reads it)", got, tt.sendsOnce)
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPut, srv.URL+"/upload/x.whl", strings.NewReader("wheel"))
			resp, err := (&http.Client{Transport: &Retry{MaxAttempts: 4, Sleep: noSleep}}).Do(req)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("err = %v, want %v", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			default:
				resp.Body.Close()
				if resp.StatusCode != tt.wantCode {
					t.Errorf("status %d, want %d", resp.StatusCode, tt.wantCode)
				}
			}
			if int(sends.Load()) != tt.sends || int(checks.Load()) != tt.checks {
				t.Errorf("%d sends and %d checks, want %d and %d", sends.Load(), checks.Load(), tt.sends, tt.checks)
			}
		})
	}
}
