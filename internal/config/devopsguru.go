package config

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// DevOpsGuru configures Amazon DevOps Guru insights (the devopsguru
// section).
type DevOpsGuru struct {
	// Enabled is devopsguru.enabled (default false): skymap serve lists
	// the insights of every account and region holding components and
	// attaches them to the components they name.
	Enabled bool
	// Interval is how often insights are listed (devopsguru.interval, a
	// duration from 1m to 24h, default 15m).
	Interval time.Duration
	// Lookback is how long ago a closed insight may have closed to be
	// listed and kept (devopsguru.lookback, days such as 7d or a duration
	// such as 36h, from 1h to 90d, default 7d).
	Lookback time.Duration
}

// Defaults of the devopsguru section.
const (
	defaultDevOpsGuruInterval = "15m"
	defaultDevOpsGuruLookback = "7d"
)

// maxLookback bounds devopsguru.lookback: insights are kept in memory.
const maxLookback = 90 * 24 * time.Hour

// rawDevOpsGuru is skymap's devopsguru section.
type rawDevOpsGuru struct {
	Enabled  bool   `yaml:"enabled"`
	Interval string `yaml:"interval"` // a duration
	Lookback string `yaml:"lookback"` // days or a duration
}

// Validate checks the devopsguru section.
func (d *rawDevOpsGuru) Validate() error {
	var errs []error
	if v, err := time.ParseDuration(d.Interval); err != nil || v < time.Minute || v > 24*time.Hour {
		errs = append(errs, errorf("interval", "%q: want a duration from 1m to 24h, such as 15m", d.Interval))
	}
	if v, ok := parseLookback(d.Lookback); !ok || v < time.Hour || v > maxLookback {
		errs = append(errs, errorf("lookback", "%q: want days such as 7d or a duration such as 36h, from 1h to 90d", d.Lookback))
	}
	return errors.Join(errs...)
}

// parseLookback reads whole days ("7d") or a Go duration ("36h").
func parseLookback(s string) (time.Duration, bool) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || strings.HasPrefix(days, "+") || n < 0 || n > int(maxLookback/(24*time.Hour))+1 {
			return 0, false
		}
		return time.Duration(n) * 24 * time.Hour, true
	}
	v, err := time.ParseDuration(s)
	return v, err == nil
}

// devOpsGuru converts a validated rawDevOpsGuru to a DevOpsGuru.
func (d *rawDevOpsGuru) devOpsGuru() DevOpsGuru {
	every, _ := time.ParseDuration(d.Interval) // validated
	lookback, _ := parseLookback(d.Lookback)   // validated
	return DevOpsGuru{Enabled: d.Enabled, Interval: every, Lookback: lookback}
}
