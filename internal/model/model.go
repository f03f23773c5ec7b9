// Package model holds skymap's domain types: components, relations, versions
// and API call outcomes. It does no I/O and knows nothing of the AWS SDK.
package model

import (
	"encoding/json"
	"time"
)

// Component is one resource of a monitored estate, as described in TOPOLOGY.md.
type Component struct {
	// ID is the external id: the ARN where AWS defines one, else the rule of TOPOLOGY.md.
	ID string `json:"id"`
	// Type is one of the aws.<service>.<kind> types of TOPOLOGY.md.
	Type string `json:"type"`
	// Name is what a person calls it: the Name tag if present, else the AWS name or id.
	Name string `json:"name"`
	// Identifiers lists every other id the resource is known by (ARNs, URNs), sorted.
	Identifiers []string `json:"identifiers"`
	// Labels are key:value strings (tags plus aws-account, aws-region, stackpack), sorted.
	Labels      []string `json:"labels"`
	Account     string   `json:"account"`
	Region      string   `json:"region"`
	Layer       string   `json:"layer"`
	Environment string   `json:"environment"`
	ConsoleURL  string   `json:"console_url"`
	// Data is the normalised AWS description of the resource.
	Data map[string]any `json:"data"`
	// Health is HealthClear, HealthDeviating, HealthCritical or
	// HealthUnknown, from the CloudWatch alarms naming the component and
	// its run state (package internal/collect/alarms); empty when skymap
	// has neither to judge by. Scans never set it: the topology graph
	// keeps it across scans and changes it only through SetHealth.
	Health string `json:"health,omitempty"`
	// HealthReasons says what gave Health, sorted: "alarm <name>: ALARM",
	// "state: stopped", "status checks: impaired".
	HealthReasons []string `json:"health_reasons,omitempty"`
}

// Health states of a component, worst last.
const (
	HealthClear     = "CLEAR"
	HealthUnknown   = "UNKNOWN"
	HealthDeviating = "DEVIATING"
	HealthCritical  = "CRITICAL"
)

// Relation links two components. Source and Target are any identifier of
// their component until the topology engine resolves them to component ids.
type Relation struct {
	Source string         `json:"source"`
	Target string         `json:"target"`
	Type   string         `json:"type"`
	Data   map[string]any `json:"data"`
}

// Key identifies a relation regardless of its data.
func (r Relation) Key() RelationKey { return RelationKey{r.Source, r.Target, r.Type} }

// RelationKey is the identity of a relation: its two ends and its type.
type RelationKey struct{ Source, Target, Type string }

// Relation types of TOPOLOGY.md.
const (
	UsesService    = "uses-service"
	HasResource    = "has-resource"
	HasClusterNode = "has-cluster-node"
	UsesEC2Host    = "uses-ec2-host"
	FlowLog        = "flowlog"
)

// Layers of TOPOLOGY.md.
const (
	LayerNetworking = "Networking"
	LayerMachines   = "Machines"
	LayerContainers = "Containers"
	LayerServerless = "Serverless"
	LayerStorage    = "Storage"
	LayerDatabases  = "Databases"
	LayerMessaging  = "Messaging"
	LayerManagement = "Management"
)

// Scope is the unit of a snapshot: everything of one resource type that one
// listing in one account and region returns. Only a complete listing of a
// scope may delete what it no longer saw.
type Scope struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Type    string `json:"type"`
}

func (s Scope) String() string { return s.Account + "/" + s.Region + "/" + s.Type }

// Snapshot is what one collector saw of one scope. Relations are owned by the
// scope that emitted them: a complete snapshot replaces them all.
type Snapshot struct {
	Scope    Scope
	Complete bool
	// Only, in a snapshot that is not complete, names the resources (by id
	// or identifier) a targeted re-describe covered: those of the scope it
	// names but does not hold are gone, and the scope's relations from them
	// (or to them from outside the scope) are replaced by the snapshot's. Without Only, an incomplete snapshot
	// adds and updates but removes nothing.
	Only       []string
	Components []Component
	Relations  []Relation
}

// Change kinds of a Version.
const (
	Created = "created"
	Updated = "updated"
	Deleted = "deleted"
)

// Version is one change of one component or relation, kept in the history.
type Version struct {
	Seq  int64     `json:"seq"`
	Time time.Time `json:"time"`
	// Entity is "component" or "relation".
	Entity string `json:"entity"`
	// ID is the component id, or "source|type|target" for a relation.
	ID     string `json:"id"`
	Change string `json:"change"`
	// Diff describes what changed: field -> {"old","new"} for updates.
	Diff json.RawMessage `json:"diff,omitempty"`
	// State is the entity as it was after the change (nil for deletions).
	State json.RawMessage `json:"state,omitempty"`
	// Cause says what brought the change: "scan", an event id, or for a
	// health change "alarm" or "state".
	Cause string `json:"cause"`
	// SourceIP is where the actor's call came from (CloudTrail
	// sourceIPAddress: an address, or an AWS service's name).
	SourceIP string `json:"source_ip,omitempty"`
	// Actor is who made the change, where known (the CloudTrail user identity).
	Actor string `json:"actor,omitempty"`
}

// Outcome kinds of an API call.
const (
	OutcomeOK        = "ok"
	OutcomeDenied    = "denied"
	OutcomeThrottled = "throttled"
	OutcomeFailed    = "failed"
)

// CallStatus is the outcome of the calls to one API in one account and region.
type CallStatus struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	// API is the IAM action form, e.g. "ec2:DescribeInstances".
	API     string `json:"api"`
	Outcome string `json:"outcome"`
	// Detail is the error of the last failed call, empty when ok.
	Detail string    `json:"detail"`
	Calls  int       `json:"calls"`
	Time   time.Time `json:"time"`
}
