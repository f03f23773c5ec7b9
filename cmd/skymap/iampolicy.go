package main

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/skymap/skymap/internal/collect/alarms"
	"github.com/skymap/skymap/internal/collect/devopsguru"
	"github.com/skymap/skymap/internal/collect/events"
	"github.com/skymap/skymap/internal/collect/flowlogs"
	"github.com/skymap/skymap/internal/collect/inventory"
	"github.com/skymap/skymap/internal/collect/logs"
	"github.com/skymap/skymap/internal/collect/metrics"
)

func runIAMPolicy(ctx context.Context, m *Main, args []string) int {
	fs := m.flags("iam-policy", "iam-policy")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	actions := slices.Concat(inventory.IAMActions(), events.IAMActions, flowlogs.IAMActions,
		metrics.IAMActions, alarms.IAMActions, logs.IAMActions, devopsguru.IAMActions)
	slices.Sort(actions)
	actions = slices.Compact(actions)
	policy := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Sid":      "SkymapReadOnly",
			"Effect":   "Allow",
			"Action":   actions,
			"Resource": "*",
		}},
	}
	enc := json.NewEncoder(m.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(policy); err != nil {
		return exitFailure
	}
	return exitOK
}
