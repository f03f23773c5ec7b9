package inventory

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/skymap/skymap/internal/partition"
)

// recordedDir holds API responses recorded from real AWS accounts (boto3's
// parsed shape; see its README).
const recordedDir = "testdata/recorded"

// recordedMap loads a recorded response, without the recorder's
// ResponseMetadata and with its timestamps as epoch seconds, the JSON
// protocols' wire form.
func recordedMap(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(recordedDir, path))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	delete(v, "ResponseMetadata")
	epochs(v)
	return v
}

func epochs(v any) {
	conv := func(s string) (float64, bool) {
		for _, layout := range []string{"2006-01-02T15:04:05.999999-07:00", "2006-01-02T15:04:05Z07:00", "2006-01-02 15:04:05.999999-07:00"} {
			if ts, err := time.Parse(layout, s); err == nil {
				return float64(ts.UnixMilli()) / 1000, true
			}
		}
		return 0, false
	}
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			if s, ok := sub.(string); ok {
				if f, ok := conv(s); ok {
					v[k] = f
				}
				continue
			}
			epochs(sub)
		}
	case []any:
		for _, sub := range v {
			epochs(sub)
		}
	}
}

// jsonAPI serves an AWS JSON 1.1 protocol API: answer gets the operation
// (from X-Amz-Target) and the decoded request, and returns the response
// body and status.
func jsonAPI(t *testing.T, answer func(op string, in map[string]any) (any, int)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		op := target[strings.LastIndexByte(target, '.')+1:]
		body, _ := io.ReadAll(r.Body)
		in := map[string]any{}
		_ = json.Unmarshal(body, &in)
		out, status := answer(op, in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// urlTarget is a target in account 123456789012 whose SDK calls go to url.
func urlTarget(url, region string) Target {
	p, _ := partition.ByID("aws")
	cfg := aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1,
	}
	return Target{Account: "123456789012", Partition: p, Region: region, Config: cfg,
		Regions: []string{region}, ConfigFor: func(string) aws.Config { return cfg }, shared: &shared{}}
}

// strs returns the strings of a decoded JSON list.
func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, s := range l {
		str, _ := s.(string)
		out = append(out, str)
	}
	return out
}
