package config

import (
	"errors"
	"net/url"
	"time"
)

// StackState configures the push of the map to a StackState server's
// receiver, in the intake format of the StackState agent (the stackstate
// section).
type StackState struct {
	// Enabled is true when stackstate.url is set.
	Enabled bool
	// URL is stackstate.url: the receiver's base URL, its /stsAgent path
	// (the agent's sts_url) or its /stsAgent/intake URL; "" when the map
	// is not pushed.
	URL string
	// APIKey is stackstate.api_key, the receiver's API key; set whenever
	// URL is.
	APIKey Secret
	// Interval is the time between pushes besides the one after every
	// scan (stackstate.interval, default 5m, at most 30m: StackState
	// expects a health snapshot at least that often).
	Interval time.Duration
	// Timeout bounds each POST to the receiver (stackstate.timeout,
	// default 30s).
	Timeout time.Duration
	// Compress gzips the bodies, as the agent does (stackstate.compress,
	// default true).
	Compress bool
}

// Defaults of the stackstate section, in the units of the file.
const (
	defaultStackStateInterval = "5m"
	defaultStackStateTimeout  = "30s"
)

// maxHealthRepeat is the longest repeat interval StackState accepts of a
// health stream, which every push also sends.
const maxHealthRepeat = 30 * time.Minute

// rawStackState is skymap's stackstate section.
type rawStackState struct {
	URL      string `yaml:"url"`
	APIKey   Secret `yaml:"api_key"`
	Interval string `yaml:"interval"` // a duration
	Timeout  string `yaml:"timeout"`  // a duration
	Compress *bool  `yaml:"compress"`
}

// Validate checks the stackstate section. The URL is quoted only when it
// has no query, where an API key pasted into it would be.
func (s *rawStackState) Validate() error {
	var errs []error
	if s.URL != "" {
		u, err := url.Parse(s.URL)
		switch {
		case err != nil:
			errs = append(errs, errorf("url", "not a URL; want the receiver's, such as https://stackstate.example.com/receiver/stsAgent"))
		case u.RawQuery != "" || u.ForceQuery:
			errs = append(errs, errorf("url", "must not have a query: the API key goes in stackstate.api_key"))
		case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			errs = append(errs, errorf("url", "%q is not an http(s) URL with a host", u.Redacted()))
		}
		if s.APIKey == "" {
			errs = append(errs, errorf("api_key", "required with stackstate.url"))
		}
	} else if s.APIKey != "" {
		errs = append(errs, errorf("api_key", "has no effect without stackstate.url"))
	}
	if d, err := time.ParseDuration(s.Interval); err != nil || d < time.Minute || d > maxHealthRepeat {
		errs = append(errs, errorf("interval", "%q: want a duration from 1m to 30m, such as 5m", s.Interval))
	}
	if d, err := time.ParseDuration(s.Timeout); err != nil || d < time.Second || d > 10*time.Minute {
		errs = append(errs, errorf("timeout", "%q: want a duration from 1s to 10m, such as 30s", s.Timeout))
	}
	return errors.Join(errs...)
}

// stackState converts a validated rawStackState to a StackState.
func (s *rawStackState) stackState() StackState {
	every, _ := time.ParseDuration(s.Interval) // validated
	timeout, _ := time.ParseDuration(s.Timeout)
	return StackState{
		Enabled:  s.URL != "",
		URL:      s.URL,
		APIKey:   s.APIKey,
		Interval: every,
		Timeout:  timeout,
		Compress: s.Compress == nil || *s.Compress,
	}
}
