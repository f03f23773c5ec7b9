package api

import "github.com/skymap/skymap/internal/collect/alarms"

// Health gives the alarms behind components' health; *alarms.Refresher is
// one.
type Health interface {
	// AlarmsOf returns the alarms naming a component, by its id.
	AlarmsOf(id string) []alarms.Alarm
}

var _ Health = (*alarms.Refresher)(nil)
