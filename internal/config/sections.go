package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Validate checks the server section.
func (s *rawServer) Validate() error {
	if _, port, err := net.SplitHostPort(s.Listen); err != nil || !validPort(port) {
		return errorf("listen", "%q is not a host:port address (e.g. 127.0.0.1:8080)", s.Listen)
	}
	return nil
}

func validPort(port string) bool {
	_, err := strconv.ParseUint(port, 10, 16)
	return err == nil
}

// Validate checks the storage section.
func (s *rawStorage) Validate() error {
	if strings.TrimSpace(s.DataDir) == "" {
		return errorf("data_dir", "must not be empty")
	}
	return nil
}

// Validate checks the aws section.
func (a *rawAWS) Validate() error {
	var errs []error
	if a.EndpointURL != "" {
		if err := checkURL(a.EndpointURL); err != nil {
			errs = append(errs, errorf("endpoint_url", "%v", err))
		}
	}
	for _, service := range slices.Sorted(maps.Keys(a.Endpoints)) {
		path := childPath("endpoints", service)
		if !validServiceID(service) {
			errs = append(errs, errorf(path,
				"service id must be the lower-case SDK service id with underscores for spaces, e.g. ec2 or cloudwatch_logs"))
		}
		if err := checkURL(a.Endpoints[service]); err != nil {
			errs = append(errs, errorf(path, "%v", err))
		}
	}
	if a.MaxAttempts < 1 {
		errs = append(errs, errorf("max_attempts", "must be at least 1, got %d", a.MaxAttempts))
	}
	if a.Concurrency < 1 {
		errs = append(errs, errorf("concurrency", "must be at least 1, got %d", a.Concurrency))
	}
	errs = append(errs, checkSeconds("request_timeout", a.RequestTimeout, true))
	return errors.Join(errs...)
}

// checkURL checks an endpoint override: an absolute http or https URL.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL", s)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL with a host", u.Redacted())
	}
	return nil
}

// validServiceID tells whether s looks like an SDK service id in the form
// AWS_ENDPOINT_URL_<SERVICE> uses, lower-cased: ec2, cloudwatch_logs.
func validServiceID(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == "" &&
		!strings.HasPrefix(s, "_") && !strings.HasSuffix(s, "_")
}

// Validate checks the log section.
func (l *rawLog) Validate() error {
	var errs []error
	if _, ok := logLevels[strings.ToLower(l.Level)]; !ok {
		errs = append(errs, errorf("level", "unknown level %q (debug, info, warn or error)", l.Level))
	}
	if f := strings.ToLower(l.Format); f != "text" && f != "json" {
		errs = append(errs, errorf("format", "unknown format %q (text or json)", l.Format))
	}
	return errors.Join(errs...)
}
