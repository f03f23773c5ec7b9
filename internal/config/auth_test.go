package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestServerAuth(t *testing.T) {
	cfg, err := Parse([]byte(instance + "server:\n  listen: 0.0.0.0:8080\n  auth:\n    token: 0123456789abcdef-token\n" +
		"    basic: {user: ann, password: pw-of-ann}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Auth{Token: "0123456789abcdef-token", User: "ann", Password: "pw-of-ann"}
	if cfg.Server.Auth != want || !cfg.Server.Auth.On() {
		t.Errorf("auth = %#v", cfg.Server.Auth)
	}
	if err := cfg.Server.Auth.CheckExposure(cfg.Server.Listen); err != nil {
		t.Errorf("CheckExposure with credentials: %v", err)
	}
}

func TestServerAuthErrors(t *testing.T) {
	tests := []struct {
		name, auth string
		want       []string
	}{
		{"short token", "{token: shortTOKEN}", []string{"server.auth.token: shorter than 16 characters: use a random one, such as openssl rand -hex 32 prints (line 3)"}},
		{"token with a space", "{token: 'spacedTOKEN 0123456789'}", []string{"server.auth.token: must not contain spaces (line 3)"}},
		{"basic without password", "{basic: {user: ann}}", []string{"server.auth.basic.password: must not be empty (line 3)"}},
		{"basic user with a colon", "{basic: {user: 'a:b', password: basicSECRET}}", []string{`server.auth.basic.user: must not contain ":" (basic auth separates user and password with it) (line 3)`}},
		{"allow and credentials", "{token: allowedTOKEN0123456789, allow_unauthenticated: true}", []string{"server.auth.allow_unauthenticated: true, but credentials are configured: remove one or the other (line 3)"}},
		{"unknown key", "{bearer: x}", nil},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(instance + "server:\n  auth: " + tt.auth + "\n"))
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if tt.want == nil {
			continue
		}
		if d := cmp.Diff(tt.want, strings.Split(err.Error(), "\n")); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
		for _, secret := range []string{"shortTOKEN", "spacedTOKEN", "basicSECRET", "allowedTOKEN"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error reveals %s: %v", tt.name, secret, err)
			}
		}
	}
}

func TestCheckExposure(t *testing.T) {
	tests := []struct {
		listen string
		auth   Auth
		ok     bool
	}{
		{"127.0.0.1:8080", Auth{}, true},
		{"[::1]:8080", Auth{}, true},
		{"localhost:8080", Auth{}, true},
		{"0.0.0.0:8080", Auth{}, false},
		{":8080", Auth{}, false},
		{"[::]:8080", Auth{}, false},
		{"10.1.2.3:8080", Auth{}, false},
		{"skymap.internal:8080", Auth{}, false},
		{"0.0.0.0:8080", Auth{AllowUnauthenticated: true}, true},
		{"0.0.0.0:8080", Auth{Token: "0123456789abcdef"}, true},
		{"0.0.0.0:8080", Auth{User: "ann", Password: "pw"}, true},
	}
	for _, tt := range tests {
		err := tt.auth.CheckExposure(tt.listen)
		if (err == nil) != tt.ok {
			t.Errorf("CheckExposure(%q) with %+v = %v", tt.listen, tt.auth, err)
		}
		if err != nil && !strings.Contains(err.Error(), "server.auth.allow_unauthenticated: true") {
			t.Errorf("error %q does not name the opt-out", err)
		}
	}
}
