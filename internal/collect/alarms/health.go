package alarms

import (
	"strings"

	"github.com/skymap/skymap/internal/model"
)

// The health rules. A component's health is the worst of what its alarms
// and its run state say, in the order CLEAR < UNKNOWN < DEVIATING <
// CRITICAL:
//
//   - alarms: any in ALARM gives CRITICAL, or DEVIATING when all those in
//     ALARM are warnings (their name contains "warn", any case); else any
//     OK gives CLEAR; else (INSUFFICIENT_DATA only) UNKNOWN.
//   - EC2 instances: running or pending is CLEAR, stopping or stopped
//     DEVIATING, a failed (impaired) instance or system status check
//     CRITICAL; shutting-down and terminated instances say nothing. The
//     state is DescribeInstanceStatus's, read with the alarms, else the
//     last scan's.
//   - RDS instances: "available" is CLEAR, any other status DEVIATING.
//   - a component with neither alarms nor such a state has no health
//     (the field is empty).

// rank orders health states, worst highest; "" (nothing known) lowest.
var rank = map[string]int{"": 0, model.HealthClear: 1, model.HealthUnknown: 2, model.HealthDeviating: 3, model.HealthCritical: 4}

func worst(a, b string) string {
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func isWarning(name string) bool { return strings.Contains(strings.ToLower(name), "warn") }

// Judge returns the health of c and its reasons from the alarms naming it
// and, for an EC2 instance, its status (zero when not known).
func Judge(c *model.Component, alarms []*Alarm, st Status) (string, []string) {
	var reasons []string
	health := ""
	anyOK := false
	for _, a := range alarms {
		reasons = append(reasons, "alarm "+a.Name+": "+a.State)
		switch a.State {
		case StateAlarm:
			if a.Warning {
				health = worst(health, model.HealthDeviating)
			} else {
				health = worst(health, model.HealthCritical)
			}
		case StateOK:
			anyOK = true
		}
	}
	if len(alarms) > 0 && health == "" {
		health = model.HealthUnknown
		if anyOK {
			health = model.HealthClear
		}
	}
	if h, why := stateHealth(c, st); h != "" {
		health = worst(health, h)
		reasons = append(reasons, why...)
	}
	return health, reasons
}

// stateHealth is what c's run state says of its health.
func stateHealth(c *model.Component, live Status) (string, []string) {
	switch c.Type {
	case "aws.ec2.instance":
		st, _ := c.Data["State"].(map[string]any)
		name, _ := st["Name"].(string)
		if live.State != "" {
			name = live.State
		}
		var h string
		switch name {
		case "running", "pending":
			h = model.HealthClear
		case "stopping", "stopped":
			h = model.HealthDeviating
		default:
			return "", nil
		}
		why := []string{"state: " + name}
		if live.Impaired {
			h = model.HealthCritical
			why = append(why, "status checks: impaired")
		}
		return h, why
	case "aws.rds.instance":
		s, _ := c.Data["DBInstanceStatus"].(string)
		switch s {
		case "":
			return "", nil
		case "available":
			return model.HealthClear, []string{"state: " + s}
		default:
			return model.HealthDeviating, []string{"state: " + s}
		}
	}
	return "", nil
}

// hasState tells whether components of a type have a run state that
// Judge reads.
func hasState(typ string) bool { return typ == "aws.ec2.instance" || typ == "aws.rds.instance" }
