package config

import (
	"fmt"
	"log/slog"
)

// redacted is what a non-empty Secret prints as.
const redacted = "[redacted]"

// Secret is a string that never prints its value: fmt (every verb), JSON,
// text marshalling and slog all show "[redacted]", or "" for an empty Secret,
// so that whether a secret is set stays visible. Reveal returns the value.
type Secret string

// Reveal returns the secret's value, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]", or "" when the secret is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString returns the same as String, so %#v does not reveal the value.
func (s Secret) GoString() string { return s.String() }

// Format prints String for every verb and flag, so no fmt directive can
// reveal the value.
func (s Secret) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), s.String())
}

// MarshalText returns String as bytes.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalJSON returns String as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// LogValue returns String as a slog value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
