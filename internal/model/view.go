package model

import (
	"slices"
	"strings"
	"time"
)

// View is a named filter over the map: the built-in views of each
// configured instance (TOPOLOGY.md, "Layers and views") and the views
// users define, which the store keeps.
type View struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Builtin views come from the configuration and cannot be changed.
	Builtin bool `json:"builtin"`
	// Instance is the configured instance a built-in view belongs to.
	Instance string     `json:"instance,omitempty"`
	Filter   ViewFilter `json:"filter"`
	// Created and Updated are zero for built-in views.
	Created time.Time `json:"created,omitzero"`
	Updated time.Time `json:"updated,omitzero"`
}

// ViewFilter selects components. Each non-empty field narrows the view: a
// component must match every field. Within Types, Layers, Accounts and
// Regions one value is enough; every label of Labels must be present.
type ViewFilter struct {
	Types  []string `json:"types,omitempty"`
	Layers []string `json:"layers,omitempty"`
	// Labels are "key:value" labels, or "key:*" for any value of key.
	Labels   []string `json:"labels,omitempty"`
	Accounts []string `json:"accounts,omitempty"`
	Regions  []string `json:"regions,omitempty"`
	// Name is a part of the name, matched ignoring case.
	Name string `json:"name,omitempty"`
}

// Matcher returns the filter as a function, with its values prepared once:
// it is called for every component of the map.
func (f ViewFilter) Matcher() func(Component) bool {
	name := strings.ToLower(f.Name)
	var exact, prefixes []string
	for _, l := range f.Labels {
		if p, ok := strings.CutSuffix(l, ":*"); ok {
			prefixes = append(prefixes, p+":")
		} else {
			exact = append(exact, l)
		}
	}
	return func(c Component) bool {
		switch {
		case len(f.Types) > 0 && !slices.Contains(f.Types, c.Type),
			len(f.Layers) > 0 && !slices.Contains(f.Layers, c.Layer),
			len(f.Accounts) > 0 && !slices.Contains(f.Accounts, c.Account),
			len(f.Regions) > 0 && !slices.Contains(f.Regions, c.Region),
			name != "" && !strings.Contains(strings.ToLower(c.Name), name):
			return false
		}
		for _, l := range exact {
			if !slices.Contains(c.Labels, l) {
				return false
			}
		}
		for _, p := range prefixes {
			if !slices.ContainsFunc(c.Labels, func(l string) bool { return strings.HasPrefix(l, p) }) {
				return false
			}
		}
		return true
	}
}

// Layers in the order TOPOLOGY.md lists them.
var Layers = []string{LayerNetworking, LayerMachines, LayerContainers, LayerServerless,
	LayerStorage, LayerDatabases, LayerMessaging, LayerManagement}

// BuiltinViews returns the built-in views of a configured instance whose
// components are those of accounts (nil: of every account): All,
// Infrastructure (Networking, Storage and Machines) and Serverless (S3
// buckets, Lambda functions and aliases, application load balancers).
// Their names are "AWS - <name> - All" and so on, their ids
// "aws-<slug>-all" and so on. instance is "" for views of no one instance.
func BuiltinViews(name, slug, instance string, accounts []string) []View {
	prefix := "AWS - " + name + " - "
	return []View{
		{ID: "aws-" + slug + "-all", Name: prefix + "All", Builtin: true, Instance: instance,
			Filter: ViewFilter{Accounts: accounts}},
		{ID: "aws-" + slug + "-infrastructure", Name: prefix + "Infrastructure", Builtin: true, Instance: instance,
			Filter: ViewFilter{Accounts: accounts, Layers: []string{LayerNetworking, LayerStorage, LayerMachines}}},
		{ID: "aws-" + slug + "-serverless", Name: prefix + "Serverless", Builtin: true, Instance: instance,
			Filter: ViewFilter{Accounts: accounts, Types: []string{"aws.s3.bucket", "aws.lambda.function", "aws.lambda.alias",
				"aws.elb-v2.application-load-balancer"}}},
	}
}
