package config

import "time"

// Health configures component health from CloudWatch alarms and run
// states (the health section).
type Health struct {
	// Enabled is health.enabled (default true).
	Enabled bool
	// Interval is how often alarms and instance status checks are read
	// (health.interval in seconds, default 60); they are also read after
	// every scan.
	Interval time.Duration
}

// defaultHealthInterval is health.interval's default, in seconds.
const defaultHealthInterval = 60

// rawHealth is skymap's health section.
type rawHealth struct {
	Enabled  *bool `yaml:"enabled"`
	Interval int   `yaml:"interval"` // seconds
}

// Validate checks the health section.
func (h *rawHealth) Validate() error { return checkSeconds("interval", h.Interval, false) }

// health converts a validated rawHealth to a Health.
func (h *rawHealth) health() Health {
	return Health{Enabled: h.Enabled == nil || *h.Enabled, Interval: seconds(h.Interval)}
}
