package devopsguru

import (
	"slices"

	"github.com/skymap/skymap/internal/collect/inventory"
	"github.com/skymap/skymap/internal/collect/metrics"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

// typeStack is the component type of CloudFormation stacks.
const typeStack = "aws.cloudformation.stack"

// matcher maps what insights name to components: resources by
// CloudFormation type and name through the inventory's stack table
// (inventory.ResourceRef) and the graph's identifiers, metrics by the key
// of their dimensions (metrics.DimensionKeys, as alarms are mapped),
// stacks by account, region and name.
type matcher struct {
	lookup func(ref string) (model.Component, bool)
	// dims maps the key of a component's metrics to its id.
	dims map[string]string
	// stacks maps account|region|stack name to the stack's id.
	stacks map[string]string
}

// newMatcher indexes the components of g.
func newMatcher(g Graph) *matcher {
	m := &matcher{lookup: g.Lookup, dims: map[string]string{}, stacks: map[string]string{}}
	comps, _ := g.Select(func(c model.Component) bool {
		return c.Type == typeStack || metrics.SetFor(c.Type) != nil
	}, 0, -1)
	for i := range comps {
		c := &comps[i]
		if c.Type == typeStack {
			name, _ := c.Data["StackName"].(string)
			if name == "" {
				name = c.Name
			}
			m.stacks[c.Account+"|"+c.Region+"|"+name] = c.ID
			continue
		}
		if k, ok := metrics.DimensionKey(c); ok {
			if _, dup := m.dims[k]; !dup {
				m.dims[k] = c.ID
			}
		}
	}
	return m
}

// component returns the id of the component r (named by an insight of
// account and region) maps to, "" when none.
func (m *matcher) component(account, region string, r Resource) string {
	switch r.Kind {
	case KindResource:
		if p, ok := partition.OfRegion(region); ok {
			if ref := inventory.ResourceRef(p, account, region, r.Type, r.Name); ref != "" {
				if c, ok := m.lookup(ref); ok {
					return c.ID
				}
			}
		}
		// A type the table does not know, named by ARN: the ARN is its
		// identifier.
		if a, ok := partition.ParseARN(r.Name); ok && a.Resource != "" {
			if c, ok := m.lookup(r.Name); ok {
				return c.ID
			}
		}
	case KindARN:
		if c, ok := m.lookup(r.Name); ok {
			return c.ID
		}
	case KindMetric:
		for _, k := range metrics.DimensionKeys(account, region, r.Type, r.Dimensions) {
			if id, ok := m.dims[k]; ok {
				return id
			}
		}
	case KindStack:
		return m.stacks[account+"|"+region+"|"+r.Name]
	}
	return ""
}

// mapped returns a copy of in with each resource's component, the sorted
// component ids and the count of unmatched resources.
func (m *matcher) mapped(in Insight) Insight {
	out := in
	out.Resources = make([]Resource, len(in.Resources))
	out.Components = []string{}
	out.Unmatched = 0
	for i, r := range in.Resources {
		r.Component = m.component(in.Account, in.Region, r)
		out.Resources[i] = r
		if r.Component == "" {
			out.Unmatched++
		} else if !slices.Contains(out.Components, r.Component) {
			out.Components = append(out.Components, r.Component)
		}
	}
	slices.Sort(out.Components)
	return out
}
