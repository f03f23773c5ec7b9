package events

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"

	"github.com/skymap/skymap/internal/partition"
)

// Action is what an event asks of the topology.
type Action int

const (
	// Refresh re-describes the named resources.
	Refresh Action = iota + 1
	// Delete removes them.
	Delete
)

// String names the action.
func (a Action) String() string {
	switch a {
	case Refresh:
		return "refresh"
	case Delete:
		return "delete"
	}
	return "unknown"
}

// Change is one thing an event changes: resources of one component type.
type Change struct {
	// Type is the component type, e.g. "aws.ec2.instance".
	Type   string
	Action Action
	// IDs name the resources by an identifier the inventory gives them,
	// the component id wherever the event allows it to be built; never
	// empty.
	IDs []string
}

// Changes returns what e changes, and false for an event skymap does not
// map, or one whose record names no resource it could map (counted by the
// caller, not an error). Failed calls (e.ErrorCode != "") change nothing:
// they return nil, true.
//
// The tables are apiCalls (CloudTrail records, by event source and name,
// in mapping_calls.go) and notifications (other EventBridge events, by
// detail-type).
func Changes(e Event) ([]Change, bool) {
	if e.ErrorCode != "" {
		return nil, true
	}
	c := newCall(e)
	var rules []rule
	if e.EventName != "" {
		rules = apiCalls[e.EventSource][baseName(e.EventName)]
	} else if n, ok := notifications[e.DetailType]; ok {
		rules = n.rules(c)
	}
	if len(rules) == 0 {
		return nil, false
	}
	var out []Change
	for _, r := range rules {
		for _, id := range r.ids(c) {
			typ := r.typ
			if typ == "" {
				typ, id = typeOfARN(id)
				if typ == "" {
					continue
				}
			}
			out = add(out, typ, r.action, id)
		}
	}
	return out, len(out) > 0
}

// add puts id into the change of (typ, action), creating it after the
// others when it is the first.
func add(out []Change, typ string, action Action, id string) []Change {
	if id == "" {
		return out
	}
	for i := range out {
		if out[i].Type == typ && out[i].Action == action {
			if !slices.Contains(out[i].IDs, id) {
				out[i].IDs = append(out[i].IDs, id)
			}
			return out
		}
	}
	return append(out, Change{Type: typ, Action: action, IDs: []string{id}})
}

// eventNameSuffix is the API version some services append to CloudTrail
// event names: Lambda's "CreateFunction20150331", "AddPermission20150331v2",
// CloudFront's "UpdateDistribution2020_05_31".
var eventNameSuffix = regexp.MustCompile(`(\d{8}(v\d+)?|\d{4}_\d{2}_\d{2})$`)

// baseName is an event name without its API version.
func baseName(name string) string {
	return eventNameSuffix.ReplaceAllString(name, "")
}

// rule is one change of an event: resources of type typ (or, when typ is
// empty, of the type their ARN names, see arnTypes) that ids finds.
type rule struct {
	typ    string
	action Action
	ids    source
}

func refresh(typ string, ids source) rule { return rule{typ, Refresh, ids} }
func remove(typ string, ids source) rule  { return rule{typ, Delete, ids} }

// call is an event being mapped: its decoded parameters and where it
// happened.
type call struct {
	e         Event
	partition string
	req, res  any
	detail    any
}

func newCall(e Event) *call {
	c := &call{e: e, partition: partitionOf(e)}
	c.req, c.res, c.detail = decode(e.RequestParameters), decode(e.ResponseElements), decode(e.Detail)
	return c
}

// partitionOf is the ARN partition of the event's region, else of its
// actor's ARN, else the commercial one.
func partitionOf(e Event) string {
	if p, ok := partition.OfRegion(e.Region); ok {
		return p.ID
	}
	if a, ok := partition.ParseARN(e.Actor); ok {
		return a.Partition
	}
	return "aws"
}

func decode(raw json.RawMessage) any {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return v
}

// fill expands {partition}, {region}, {account} and {name} in tmpl.
func (c *call) fill(tmpl, name string) string {
	return strings.NewReplacer("{partition}", c.partition, "{region}", c.e.Region,
		"{account}", c.e.Account, "{name}", name).Replace(tmpl)
}

// A source finds the ids of one rule in an event.
type source func(c *call) []string

// req is the strings at the first of paths that has any in the request
// parameters; see lookup for the path syntax.
func req(paths ...string) source {
	return func(c *call) []string { return firstAt(c.req, paths) }
}

// res is req for the response elements.
func res(paths ...string) source {
	return func(c *call) []string { return firstAt(c.res, paths) }
}

// detail is req for a notification's detail.
func detail(paths ...string) source {
	return func(c *call) []string { return firstAt(c.detail, paths) }
}

func firstAt(v any, paths []string) []string {
	for _, p := range paths {
		if out := lookup(v, p); len(out) > 0 {
			return out
		}
	}
	return nil
}

// first is the ids of the first source that finds any: the response's
// ARN before the ARN built from a name in the request.
func first(srcs ...source) source {
	return func(c *call) []string {
		for _, s := range srcs {
			if out := s(c); len(out) > 0 {
				return out
			}
		}
		return nil
	}
}

// all is the ids every source finds.
func all(srcs ...source) source {
	return func(c *call) []string {
		var out []string
		for _, s := range srcs {
			out = append(out, s(c)...)
		}
		return out
	}
}

// arn turns the names s finds into ARNs by tmpl ({partition}, {region},
// {account}, {name}); a value that already is an ARN is kept, normalised.
func arn(tmpl string, s source) source {
	return mapIDs(s, func(c *call, v string) string {
		if strings.HasPrefix(v, "arn:") {
			return c.normalise(v)
		}
		return c.fill(tmpl, v)
	})
}

// arns normalises the ARNs s finds and drops anything else.
func arns(s source) source {
	return mapIDs(s, func(c *call, v string) string {
		if !strings.HasPrefix(v, "arn:") {
			return ""
		}
		return c.normalise(v)
	})
}

// lower lower-cases what s finds: RDS and Redshift keep identifiers in
// lower case whatever case the request used.
func lower(s source) source {
	return mapIDs(s, func(_ *call, v string) string { return strings.ToLower(v) })
}

// trim removes prefix from what s finds ("/hostedzone/Z1..." -> "Z1...").
func trim(prefix string, s source) source {
	return mapIDs(s, func(_ *call, v string) string { return strings.TrimPrefix(v, prefix) })
}

func mapIDs(s source, f func(c *call, v string) string) source {
	return func(c *call) []string {
		var out []string
		for _, v := range s(c) {
			if id := f(c, v); id != "" {
				out = append(out, id)
			}
		}
		return out
	}
}

// normalise repairs an ARN: an account left out of a regional ARN of a
// service whose ARNs carry one is the event's (CloudTrail sometimes
// records "arn:aws:sns:eu-west-1::topic"); a Lambda function's version
// qualifier is dropped, as the inventory lists functions unqualified.
func (c *call) normalise(s string) string {
	a, ok := partition.ParseARN(s)
	if !ok {
		return s
	}
	if a.Account == "" && a.Region != "" && a.Service != "apigateway" && a.Service != "s3" {
		a.Account = c.e.Account
	}
	if a.Service == "lambda" {
		if parts := strings.Split(a.Resource, ":"); len(parts) == 3 && parts[0] == "function" && lambdaVersion.MatchString(parts[2]) {
			a.Resource = parts[0] + ":" + parts[1]
		}
	}
	return a.String()
}

var lambdaVersion = regexp.MustCompile(`^(\d+|\$LATEST)$`)

// lookup returns the strings at path in v: keys separated by dots, matched
// without regard to case; arrays on the way are walked element by element;
// an array of strings at the end gives each; an object at the end with a
// "content" member (EC2's {"tag": 1, "content": "vpce-..."}) gives that.
// When v is an object whose single member is named "...Request" or
// "...Response" (EC2's newer APIs wrap their parameters so), the path is
// also looked up inside it.
func lookup(v any, path string) []string {
	out := walk(v, strings.Split(path, "."), nil)
	if len(out) == 0 {
		if m, ok := v.(map[string]any); ok && len(m) <= 2 {
			for k, inner := range m {
				if strings.HasSuffix(k, "Request") || strings.HasSuffix(k, "Response") {
					out = walk(inner, strings.Split(path, "."), out)
				}
			}
		}
	}
	return out
}

func walk(v any, keys []string, out []string) []string {
	switch t := v.(type) {
	case []any:
		for _, el := range t {
			out = walk(el, keys, out)
		}
	case map[string]any:
		if len(keys) == 0 {
			return walk(t["content"], nil, out)
		}
		for k, inner := range t {
			if strings.EqualFold(k, keys[0]) {
				out = walk(inner, keys[1:], out)
			}
		}
	case string:
		if len(keys) == 0 && t != "" {
			out = append(out, t)
		}
	}
	return out
}

// arnTypes tells the component type an ARN names, by service and a pattern
// over the resource part; a pattern with a group names the component by
// that group (EC2 ids, Route 53 zone ids), else the ARN is the id. Used
// where an event names resources of several types by ARN (tagging,
// ELBv2, EventBridge resources).
var arnTypes = []struct {
	service string
	pattern *regexp.Regexp
	typ     string
}{
	{"ec2", regexp.MustCompile(`^instance/(.+)$`), tInstance},
	{"ec2", regexp.MustCompile(`^vpc/(.+)$`), tVPC},
	{"ec2", regexp.MustCompile(`^subnet/(.+)$`), tSubnet},
	{"ec2", regexp.MustCompile(`^security-group/(.+)$`), tSecurityGroup},
	{"ec2", regexp.MustCompile(`^volume/(.+)$`), tVolume},
	{"ec2", regexp.MustCompile(`^network-interface/(.+)$`), tNetworkInterface},
	{"ec2", regexp.MustCompile(`^route-table/(.+)$`), tRouteTable},
	{"ec2", regexp.MustCompile(`^internet-gateway/(.+)$`), tInternetGateway},
	{"ec2", regexp.MustCompile(`^natgateway/(.+)$`), tNATGateway},
	{"ec2", regexp.MustCompile(`^vpn-gateway/(.+)$`), tVPNGateway},
	{"ec2", regexp.MustCompile(`^transit-gateway/(.+)$`), tTransitGateway},
	{"ec2", regexp.MustCompile(`^vpc-endpoint/(.+)$`), tVPCEndpoint},
	{"elasticloadbalancing", regexp.MustCompile(`^loadbalancer/app/`), tALB},
	{"elasticloadbalancing", regexp.MustCompile(`^loadbalancer/net/`), tNLB},
	{"elasticloadbalancing", regexp.MustCompile(`^loadbalancer/gwy/`), tGWLB},
	{"elasticloadbalancing", regexp.MustCompile(`^loadbalancer/[^/]+$`), tClassicLB},
	{"elasticloadbalancing", regexp.MustCompile(`^targetgroup/`), tTargetGroup},
	{"autoscaling", regexp.MustCompile(`^autoScalingGroup:`), tASG},
	{"ecs", regexp.MustCompile(`^cluster/`), tECSCluster},
	{"ecs", regexp.MustCompile(`^service/`), tECSService},
	{"ecs", regexp.MustCompile(`^task/`), tECSTask},
	{"eks", regexp.MustCompile(`^cluster/`), tEKSCluster},
	{"eks", regexp.MustCompile(`^nodegroup/`), tEKSNodegroup},
	{"lambda", regexp.MustCompile(`^function:[^:]+$`), tFunction},
	{"lambda", regexp.MustCompile(`^function:[^:]+:[^:]+$`), tAlias},
	{"states", regexp.MustCompile(`^stateMachine:`), tStateMachine},
	{"states", regexp.MustCompile(`^activity:`), tActivity},
	{"apigateway", regexp.MustCompile(`^/restapis/[^/]+$`), tRestAPI},
	{"apigateway", regexp.MustCompile(`^/restapis/[^/]+/stages/[^/]+$`), tRestStage},
	{"apigateway", regexp.MustCompile(`^/apis/[^/]+$`), tAPIv2},
	{"apigateway", regexp.MustCompile(`^/apis/[^/]+/stages/[^/]+$`), tAPIv2Stage},
	{"s3", regexp.MustCompile(`^[^/]+$`), tBucket},
	{"rds", regexp.MustCompile(`^db:`), tRDSInstance},
	{"rds", regexp.MustCompile(`^cluster:`), tRDSCluster},
	{"redshift", regexp.MustCompile(`^cluster:`), tRedshift},
	{"elasticache", regexp.MustCompile(`^cluster:`), tCache},
	{"dynamodb", regexp.MustCompile(`^table/[^/]+$`), tTable},
	{"dynamodb", regexp.MustCompile(`^table/[^/]+/stream/`), tTableStream},
	{"sqs", regexp.MustCompile(`^[^:/]+$`), tQueue},
	{"sns", regexp.MustCompile(`^[^:/]+$`), tTopic},
	{"kinesis", regexp.MustCompile(`^stream/`), tStream},
	{"firehose", regexp.MustCompile(`^deliverystream/`), tFirehose},
	{"events", regexp.MustCompile(`^rule/`), tRule},
	{"cloudformation", regexp.MustCompile(`^stack/`), tStack},
	{"iam", regexp.MustCompile(`^role/`), tRole},
	{"cloudfront", regexp.MustCompile(`^distribution/`), tDistribution},
	{"route53", regexp.MustCompile(`^hostedzone/(.+)$`), tHostedZone},
}

// typeOfARN returns the component type an ARN names and the component's
// id, or "" for an ARN of nothing skymap shows.
func typeOfARN(s string) (typ, id string) {
	a, ok := partition.ParseARN(s)
	if !ok {
		return "", ""
	}
	for _, t := range arnTypes {
		if t.service != a.Service {
			continue
		}
		m := t.pattern.FindStringSubmatch(a.Resource)
		if m == nil {
			continue
		}
		if len(m) > 1 {
			return t.typ, m[1]
		}
		return t.typ, s
	}
	return "", ""
}

// notification maps an EventBridge event that is not an API call.
type notification struct {
	// id finds the resource, state its new state.
	id, state source
	typ       string
	// actions by state; a state not listed is not mapped.
	actions map[string]Action
}

// notifications are the non-API events mapped, by detail-type.
var notifications = map[string]notification{
	"EC2 Instance State-change Notification": {
		id: detail("instance-id"), state: detail("state"), typ: tInstance,
		actions: map[string]Action{
			"pending": Refresh, "running": Refresh, "stopping": Refresh, "stopped": Refresh,
			// The inventory still lists shutting-down instances, but they
			// are on their way out: drop them now.
			"shutting-down": Delete, "terminated": Delete,
		},
	},
}

func (n notification) rules(c *call) []rule {
	states := n.state(c)
	if len(states) != 1 {
		return nil
	}
	a, ok := n.actions[states[0]]
	if !ok {
		return nil
	}
	return []rule{{n.typ, a, n.id}}
}
