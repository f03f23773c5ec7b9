package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
)

// Real-looking secrets (AWS's documented example keys) that must never be
// printed back; the external id has characters that %q escapes.
const (
	accessKey  = "AKIAIOSFODNN7EXAMPLE"
	secretKey  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	externalID = `f00d"cafe\ext-1d`
)

var secrets = []string{accessKey, secretKey, externalID}

// checkNoSecret fails the test when out contains one of secrets, as is or
// as quoted by %q.
func checkNoSecret(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range secrets {
		quoted := strconv.Quote(s)
		if strings.Contains(out, s) || strings.Contains(out, quoted[1:len(quoted)-1]) {
			t.Errorf("%s reveals %q:\n%s", what, s, out)
		}
	}
}

func TestConfigNeverPrintsSecrets(t *testing.T) {
	c, err := Parse([]byte(`
init_config:
  aws_access_key_id: ` + accessKey + `
  aws_secret_access_key: ` + secretKey + `
  external_id: ` + externalID + `
instances:
  - role_arn: arn:aws:iam::123456789012:role/R
    regions: [eu-west-1]
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Credentials.AccessKeyID.Reveal() != accessKey || c.Credentials.SecretAccessKey.Reveal() != secretKey ||
		c.ExternalID.Reveal() != externalID {
		t.Fatalf("Parse() lost the secrets: %q %q %q", c.Credentials.AccessKeyID.Reveal(),
			c.Credentials.SecretAccessKey.Reveal(), c.ExternalID.Reveal())
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%20s", "%d"} {
		out := fmt.Sprintf(format, c) + fmt.Sprintf(format, *c) + fmt.Sprintf(format, c.Credentials)
		checkNoSecret(t, "fmt "+format, out)
		if !strings.Contains(fmt.Sprintf(format, c.ExternalID), fmt.Sprintf(format, redacted)) {
			t.Errorf("fmt %s of a Secret = %q, want it to show %s", format, fmt.Sprintf(format, c.ExternalID), redacted)
		}
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	checkNoSecret(t, "json.Marshal", string(js))
	if !strings.Contains(string(js), `"SecretAccessKey":"[redacted]"`) {
		t.Errorf("json.Marshal = %s, want the secret shown as [redacted]", js)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("loaded", "config", c, "id", c.ExternalID)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("loaded", "config", c, "id", c.ExternalID)
	checkNoSecret(t, "slog", logs.String())
}

func TestSecretText(t *testing.T) {
	for s, want := range map[Secret]string{"": "", secretKey: redacted} {
		if got, err := s.MarshalText(); err != nil || string(got) != want {
			t.Errorf("MarshalText() = %q, %v, want %q", got, err, want)
		}
	}
}

func TestSecretEmpty(t *testing.T) {
	var s Secret
	for _, got := range []string{s.String(), s.GoString(), fmt.Sprint(s), fmt.Sprintf("%+v", s)} {
		if got != "" {
			t.Errorf("empty Secret prints %q, want \"\"", got)
		}
	}
	if js, _ := json.Marshal(s); string(js) != `""` {
		t.Errorf("json.Marshal(empty Secret) = %s, want \"\"", js)
	}
}

func TestErrorsNeverQuoteSecrets(t *testing.T) {
	tests := []struct{ name, yaml string }{
		{"access key without secret key", "init_config: {aws_access_key_id: " + accessKey + "}"},
		{"secret key without access key", "init_config: {aws_secret_access_key: " + secretKey + "}"},
		{"secret under a misspelt key", "init_config: {aws_secret_key: " + secretKey + "}"},
		{"secret in an instance", "instances: [{external_id: " + externalID + "}]"},
		{"secret in a list", "init_config: {aws_secret_access_key: [" + secretKey + "]}"},
		{"secret in a mapping", "init_config: {external_id: {" + externalID + ": 1}}"},
		{"secret beside other errors, and pasted into regions", `
init_config:
  aws_access_key_id: ` + accessKey + `
  aws_secret_access_key: ` + secretKey + `
  aws_secret_access_key: ` + secretKey + `
  external_id: ` + externalID + `
instances:
  - role_arn: nope
    regions: [` + externalID + `]
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatal("Parse() succeeded, want an error")
			}
			checkNoSecret(t, "error", err.Error())
			if strings.Contains(tt.yaml, "regions: [") && !strings.Contains(err.Error(), `unknown region "[redacted]"`) {
				t.Errorf("error = %q, want the secret pasted into regions shown as [redacted]", err)
			}
		})
	}
}
