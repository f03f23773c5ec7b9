package app

import (
	"log/slog"

	"github.com/skymap/skymap/internal/config"
	"github.com/skymap/skymap/internal/export/stackstate"
	"github.com/skymap/skymap/internal/topology"
)

// newStackStatePusher returns serve's pusher of the map to a StackState
// receiver, or nil when stackstate.url is not set. Every account a
// configured role names gets a snapshot, even an empty one; health
// streams go along when health is on.
func newStackStatePusher(cfg *config.Config, g *topology.Graph, log *slog.Logger, version string) (*stackstate.Pusher, error) {
	s := cfg.StackState
	if !s.Enabled {
		return nil, nil
	}
	var accounts []string
	for _, in := range cfg.Instances {
		if in.Account != "" {
			accounts = append(accounts, in.Account)
		}
	}
	return stackstate.New(stackstate.Options{
		Receiver:  s.URL,
		APIKey:    s.APIKey.Reveal(),
		Source:    g,
		Accounts:  accounts,
		Health:    cfg.Health.Enabled,
		Interval:  s.Interval,
		Timeout:   s.Timeout,
		Compress:  s.Compress,
		UserAgent: "skymap/" + version,
		Log:       log,
	})
}
