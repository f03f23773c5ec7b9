package inventory

import (
	"encoding/json"
	"sort"

	"github.com/skymap/skymap/internal/model"
)

// Tags that StackState gives a meaning (TOPOLOGY.md, "Special tags").
const (
	tagIdentifier  = "stackstate-identifier"
	tagEnvironment = "stackstate-environment"
	tagName        = "Name"
)

// resource is what a collector knows of one resource before it becomes a
// component.
type resource struct {
	typ string
	// id is the component id; short is the id AWS uses in its own console
	// (instance id, bucket name), used for the console link and ARN.
	id, short string
	name      string
	region    string // empty means the target's region
	tags      map[string]string
	idents    []string
	data      any
}

// component turns a resource into a model.Component in the target's
// account: labels from tags, special tags, layer, console URL, data.
func (t Target) component(r resource) model.Component {
	region := r.region
	if region == "" {
		region = t.Region
	}
	c := model.Component{
		ID:          r.id,
		Type:        r.typ,
		Name:        r.name,
		Identifiers: append([]string(nil), r.idents...),
		Labels:      []string{"aws-account:" + t.Account, "aws-region:" + region, "stackpack:aws-v2"},
		Account:     t.Account,
		Region:      region,
		Layer:       Layer(r.typ),
		ConsoleURL:  ConsoleURL(r.typ, t.Partition, region, r.short),
		Data:        toData(r.data),
	}
	if n := r.tags[tagName]; n != "" {
		c.Name = n
	}
	if c.Name == "" {
		c.Name = r.short
	}
	if arn := arnOf(r.typ, t.Partition, region, t.Account, r.short); arn != "" && arn != r.id {
		c.Identifiers = append(c.Identifiers, arn)
	}
	keys := make([]string, 0, len(r.tags))
	for k := range r.tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := r.tags[k]
		if v == "" {
			c.Labels = append(c.Labels, k)
		} else {
			c.Labels = append(c.Labels, k+":"+v)
		}
		switch k {
		case tagIdentifier:
			c.Identifiers = append(c.Identifiers, v)
		case tagEnvironment:
			c.Environment = v
		}
	}
	if r.tags != nil {
		c.Data["Tags"] = r.tags
	}
	return c
}

// toData converts an SDK value to the JSON-shaped map kept as component data
// (field names as in the AWS API reference, timestamps as RFC 3339).
func toData(v any) map[string]any {
	out := map[string]any{}
	if v == nil {
		return out
	}
	b, err := json.Marshal(v)
	if err != nil {
		return out
	}
	if json.Unmarshal(b, &out) != nil {
		return map[string]any{}
	}
	prune(out)
	return out
}

// prune removes null, empty-string and empty-object members, recursively:
// the SDK's structs carry every field the API may return, most of them unset.
func prune(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			prune(sub)
			switch s := sub.(type) {
			case nil:
				delete(v, k)
			case string:
				if s == "" {
					delete(v, k)
				}
			case map[string]any:
				if len(s) == 0 {
					delete(v, k)
				}
			}
		}
	case []any:
		for _, sub := range v {
			prune(sub)
		}
	}
}

// rel is a relation of type typ between two identifiers.
func rel(src, dst, typ string) model.Relation {
	return model.Relation{Source: src, Target: dst, Type: typ, Data: map[string]any{}}
}
