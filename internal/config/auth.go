package config

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"unicode"
)

// minTokenLength is the shortest server.auth.token accepted: a token is a
// random string (openssl rand -hex 32), not a password to remember.
const minTokenLength = 16

// Auth configures who may use the HTTP server (server.auth). The zero
// value asks for no credentials, which Serve accepts only on a loopback
// address.
type Auth struct {
	// Token is server.auth.token: a bearer token, also accepted as the
	// password of basic auth with any user name (for browsers).
	Token Secret
	// User and Password are server.auth.basic.user and .password.
	User     string
	Password Secret
	// AllowUnauthenticated is server.auth.allow_unauthenticated: serve
	// without credentials on a non-loopback address.
	AllowUnauthenticated bool
}

// On tells whether a asks for credentials.
func (a Auth) On() bool { return a.Token != "" || a.User != "" }

// CheckExposure refuses to serve without credentials on a non-loopback
// address, unless AllowUnauthenticated says to.
func (a Auth) CheckExposure(listen string) error {
	if a.On() || a.AllowUnauthenticated || loopback(listen) {
		return nil
	}
	return &FieldError{Path: "server.auth", Msg: "server.listen " + listen + " is not a loopback address and no credentials are " +
		"configured: set server.auth.token or server.auth.basic, or server.auth.allow_unauthenticated: true to let anyone " +
		"who can reach the address read the map"}
}

// loopback tells whether a host:port listens on loopback only: localhost
// or a loopback IP. An empty host, 0.0.0.0, :: and other names are not.
func loopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// rawAuth is the server.auth section.
type rawAuth struct {
	Token                Secret    `yaml:"token"`
	Basic                *rawBasic `yaml:"basic"`
	AllowUnauthenticated bool      `yaml:"allow_unauthenticated"`
}

// rawBasic is server.auth.basic.
type rawBasic struct {
	User     string `yaml:"user"`
	Password Secret `yaml:"password"`
}

// Validate checks the auth section. Messages never quote a secret.
func (a *rawAuth) Validate() error {
	var errs []error
	tok := a.Token.Reveal()
	switch {
	case tok == "":
	case len(tok) < minTokenLength:
		errs = append(errs, errorf("token", "shorter than %d characters: use a random one, such as openssl rand -hex 32 prints", minTokenLength))
	case strings.IndexFunc(tok, unicode.IsSpace) >= 0:
		errs = append(errs, errorf("token", "must not contain spaces"))
	}
	if b := a.Basic; b != nil {
		switch {
		case b.User == "":
			errs = append(errs, errorf("basic.user", "must not be empty"))
		case strings.Contains(b.User, ":"):
			errs = append(errs, errorf("basic.user", "must not contain \":\" (basic auth separates user and password with it)"))
		}
		if b.Password == "" {
			errs = append(errs, errorf("basic.password", "must not be empty"))
		}
	}
	if a.AllowUnauthenticated && (tok != "" || a.Basic != nil) {
		errs = append(errs, errorf("allow_unauthenticated", "true, but credentials are configured: remove one or the other"))
	}
	return errors.Join(errs...)
}

// auth converts a validated section.
func (a *rawAuth) auth() Auth {
	out := Auth{Token: a.Token, AllowUnauthenticated: a.AllowUnauthenticated}
	if a.Basic != nil {
		out.User, out.Password = a.Basic.User, a.Basic.Password
	}
	return out
}

// secrets are the section's secrets, kept out of error messages.
func (a *rawAuth) secrets() []Secret {
	out := []Secret{a.Token}
	if a.Basic != nil {
		out = append(out, a.Basic.Password)
	}
	return out
}
