package inventory

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/skymap/skymap/internal/partition"
)

// fakeTarget is a target in account 123456789012, eu-west-1, whose every
// service is the handler h of an httptest server.
func fakeTarget(t *testing.T, h http.HandlerFunc) Target {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	p, _ := partition.ByID("aws")
	return Target{Account: "123456789012", Partition: p, Region: "eu-west-1", Config: aws.Config{
		Region:           "eu-west-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		RetryMaxAttempts: 1,
	}}
}

// recordedRaw returns a file of testdata/recorded as it is.
func recordedRaw(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "recorded", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recorded returns a recorded response of testdata/recorded (boto3's
// parsed shape) without the recorder's ResponseMetadata, as JSON.
func recorded(t *testing.T, name string) []byte {
	t.Helper()
	b := recordedRaw(t, name)
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	delete(v, "ResponseMetadata")
	out, _ := json.Marshal(v)
	return out
}

// writeJSON answers a request with a JSON body.
func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	switch b := body.(type) {
	case []byte:
		w.Write(b)
	default:
		json.NewEncoder(w).Encode(b)
	}
}
