package metrics

import (
	"sort"
	"strings"

	"github.com/skymap/skymap/internal/model"
)

// The table read backwards: CloudWatch alarms name a namespace and
// dimensions, and these keys find the component they are about. A key is
// account, region, namespace and the values of the dimensions that tell
// components apart (not the fixed ones), in the set's order.

// DimensionKey returns the key of c's metrics, or false when its type has
// no set or c lacks a dimension's value.
func DimensionKey(c *model.Component) (string, bool) {
	set := byType[c.Type]
	if set == nil {
		return "", false
	}
	ns := set.Namespace
	if c.Type == "aws.elb-v2.target-group" && isNetworkProtocol(dataString(c, "Protocol")) {
		ns = "AWS/NetworkELB"
	}
	region := c.Region
	if set.Region != "" {
		region = set.Region
	}
	values := make([]string, 0, len(set.Dimensions))
	for _, d := range set.Dimensions {
		if d.Fixed {
			continue
		}
		v := d.Value(c)
		if v == "" {
			return "", false
		}
		values = append(values, d.Name+"="+v)
	}
	return key(c.Account, region, ns, values), true
}

// DimensionKeys returns the keys of the components a metric of namespace
// with dims (name -> value) in account and region may be about, the most
// specific first: a metric of an ALB target group names both its target
// group and load balancer, and is the target group's. A set matches when
// the metric names every one of its dimensions; extra dimensions (a
// Lambda alias's Resource) are allowed.
func DimensionKeys(account, region, namespace string, dims map[string]string) []string {
	type cand struct {
		n   int
		key string
	}
	var cands []cand
	for i := range sets {
		set := &sets[i]
		if set.Namespace != namespace && !(namespace == "AWS/NetworkELB" && set.Type == "aws.elb-v2.target-group") {
			continue
		}
		values := make([]string, 0, len(set.Dimensions))
		ok := true
		for _, d := range set.Dimensions {
			v, has := dims[d.Name]
			if !has || v == "" {
				ok = false
				break
			}
			if !d.Fixed {
				values = append(values, d.Name+"="+v)
			}
		}
		if ok {
			cands = append(cands, cand{len(set.Dimensions), key(account, region, namespace, values)})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].n > cands[j].n })
	out := make([]string, len(cands))
	for i, c := range cands {
		out[i] = c.key
	}
	return out
}

func key(account, region, namespace string, values []string) string {
	return account + "|" + region + "|" + namespace + "|" + strings.Join(values, "|")
}
