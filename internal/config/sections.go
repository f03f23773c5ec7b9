package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Validate checks the server section.
func (s *rawServer) Validate() error {
	if _, port, err := net.SplitHostPort(s.Listen); err != nil || !validPort(port) {
		return errors.Join(errorf("listen", "%q is not a host:port address (e.g. 127.0.0.1:8080)", s.Listen), prefix("auth", s.Auth.Validate()))
	}
	return prefix("auth", s.Auth.Validate())
}

func validPort(port string) bool {
	_, err := strconv.ParseUint(port, 10, 16)
	return err == nil
}

// Validate checks the storage section.
func (s *rawStorage) Validate() error {
	var errs []error
	if strings.TrimSpace(s.DataDir) == "" {
		errs = append(errs, errorf("data_dir", "must not be empty"))
	}
	if _, err := parseRetention(s.HistoryRetention); err != nil {
		errs = append(errs, errorf("history_retention", "%v", err))
	}
	if err := checkPostgresDSN(s.Postgres.DSN.Reveal()); err != nil {
		errs = append(errs, errorf("postgres.dsn", "%v", err))
	}
	return errors.Join(errs...)
}

// Validate checks the flowlogs section.
func (f *rawFlowLogs) Validate() error {
	var errs []error
	switch strings.ToLower(f.PublicTraffic) {
	case "keep", "aggregate", "drop":
	default:
		errs = append(errs, errorf("public_traffic", "%q: want keep, aggregate or drop", f.PublicTraffic))
	}
	for _, r := range []struct{ key, value string }{
		{"raw_retention", f.RawRetention},
		{"rollup_retention", f.RollupRetention},
	} {
		if _, err := parseRetention(r.value); err != nil {
			errs = append(errs, errorf(r.key, "%v", err))
		}
	}
	if d, err := time.ParseDuration(f.RelationWindow); err != nil || d < time.Minute || d > 30*24*time.Hour {
		errs = append(errs, errorf("relation_window", "%q: want a duration from 1m to 720h, such as 1h", f.RelationWindow))
	}
	errs = append(errs, checkSeconds("poll_interval", f.PollInterval, false))
	return errors.Join(errs...)
}

// Validate checks the metrics section: the types must have default metric
// sets (the caller passes the known types).
func (m *rawMetrics) validate(known func(string) bool) error {
	var errs []error
	if d, err := time.ParseDuration(m.Interval); err != nil || d < time.Minute || d > 24*time.Hour {
		errs = append(errs, errorf("interval", "%q: want a duration from 1m to 24h, such as 5m", m.Interval))
	}
	for i, t := range m.Types {
		if !known(t) {
			errs = append(errs, errorf(fmt.Sprintf("types[%d]", i), "%q: no CloudWatch metric set for that component type", t))
		}
	}
	for i, t := range m.TagLabels {
		if t == "" {
			errs = append(errs, errorf(fmt.Sprintf("tag_labels[%d]", i), "an empty tag key"))
		}
	}
	return errors.Join(errs...)
}

// Validate checks the traces section.
func (t *rawTraces) Validate() error {
	var errs []error
	if d, err := time.ParseDuration(t.RelationWindow); err != nil || d < time.Minute || d > 30*24*time.Hour {
		errs = append(errs, errorf("relation_window", "%q: want a duration from 1m to 720h, such as 1h", t.RelationWindow))
	}
	if t.MaxRelations < 1 || t.MaxRelations > 10_000_000 {
		errs = append(errs, errorf("max_relations", "%d: want 1 to 10000000", t.MaxRelations))
	}
	return errors.Join(errs...)
}

// Validate checks the logs section.
func (l *rawLogs) Validate() error {
	errs := []error{checkSeconds("poll_interval", l.PollInterval, false)}
	for i, g := range l.Groups {
		path := fmt.Sprintf("groups[%d]", i)
		if strings.TrimSpace(g.Component) == "" {
			errs = append(errs, errorf(path+".component", "must name a component by id or identifier"))
		}
		if !validLogGroup(g.Group) {
			errs = append(errs, errorf(path+".group", "%q: want a log group name (letters, digits, _-./#, at most 512), a name prefix ending in *, or a log group ARN", g.Group))
		}
	}
	errs = append(errs, l.validateS3()...)
	return errors.Join(errs...)
}

// logGroupName is what CloudWatch Logs accepts as a log group name.
var logGroupName = regexp.MustCompile(`^[._\-/#A-Za-z0-9]{1,512}$`)

// validLogGroup tells whether s is a log group name, a prefix of names
// ending in *, or a log group ARN (arn:<p>:logs:<region>:<account>:log-group:<name>[:*]).
func validLogGroup(s string) bool {
	parts := strings.SplitN(s, ":", 7)
	if len(parts) == 7 && parts[0] == "arn" && parts[2] == "logs" && parts[5] == "log-group" {
		return logGroupName.MatchString(strings.TrimSuffix(parts[6], ":*"))
	}
	return logGroupName.MatchString(strings.TrimSuffix(s, "*"))
}

// maxRetention bounds storage.history_retention, far above any sensible
// value and far below an overflow of time.Duration.
const maxRetention = 100 * 365 * 24 * time.Hour

// parseRetention reads storage.history_retention: a whole number of days
// ("90d"), a Go duration ("36h", "1h30m"), or 0 to keep history forever.
func parseRetention(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		// Atoi takes a sign but no spaces, dots or exponents; out of
		// range, n is the largest or smallest int.
		n, aerr := strconv.Atoi(days)
		const maxDays = int(maxRetention / (24 * time.Hour))
		switch {
		case aerr != nil && !errors.Is(aerr, strconv.ErrRange), strings.HasPrefix(days, "+"):
			// not days: ParseDuration's error stands
		case n > maxDays:
			d, err = maxRetention+1, nil // said below
		case n < -maxDays:
			d, err = -1, nil // said below
		default:
			d, err = time.Duration(n)*24*time.Hour, nil
		}
	}
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q is not a duration: want days such as 90d, a duration such as 36h, or 0 to keep history forever", s)
	case d < 0:
		return 0, fmt.Errorf("must not be negative, got %q; 0 keeps history forever", s)
	case d > maxRetention:
		return 0, fmt.Errorf("must be at most 36500d (100 years), got %q", s)
	}
	return d, nil
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

// checkPostgresDSN checks the shape of a PostgreSQL connection string: a
// postgres:// URL or keyword=value pairs. Its errors never quote it, since
// it may hold a password; the driver checks the rest when connecting.
func checkPostgresDSN(dsn string) error {
	dsn = strings.TrimSpace(dsn)
	switch {
	case dsn == "":
		return nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		if _, err := url.Parse(dsn); err != nil {
			return errors.New("not a valid URL (its value is not shown: it may hold a password)")
		}
		return nil
	case strings.Contains(dsn, "="):
		return nil
	}
	return errors.New("want a postgres:// URL or keyword=value pairs such as host=db.example dbname=skymap")
}
