package logs

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/skymap/skymap/internal/model"
)

// The mapping from components to their CloudWatch Logs groups: for each
// component type, where AWS writes its logs, read from the component's
// data. One table, so that the API, the periodic reader and the docs
// agree. ECS services and tasks, and VPC flow logs delivered to
// CloudWatch Logs, are not in it: the inventory keeps neither container
// definitions nor flow logs, so they are mapped by configuration (logs.groups).

// Group is a log group of a component, or a prefix naming several (RDS
// writes one group per log type: /aws/rds/instance/<id>/error, .../slowquery).
type Group struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	// Name is the log group's name, or the prefix of the names when Prefix.
	Name   string `json:"name"`
	Prefix bool   `json:"prefix,omitempty"`
	// Source says where the mapping comes from: a row of the table
	// (lambda, apigateway-execution, apigateway-access, rds, eks,
	// stepfunctions), "config" for a mapping of logs.groups, or "s3" for
	// logs delivered to a bucket of logs.s3.
	Source string `json:"source"`
	// S3 is, for Source "s3", where the component's objects are; Name is
	// then s3://<bucket>/<prefix>. nil for a log group.
	S3 *S3Location `json:"s3,omitempty"`
}

// Source is one row of the table: the groups of a component type.
type Source struct {
	Type string
	// Doc says, for the README and error messages, which groups these are.
	Doc    string
	Groups func(c *model.Component) []Group
}

var sources = []Source{
	{Type: "aws.lambda.function", Doc: "/aws/lambda/<FunctionName>, or the group of its LoggingConfig",
		Groups: func(c *model.Component) []Group {
			if g := str(c.Data, "LoggingConfig", "LogGroup"); g != "" {
				return []Group{named(c, g, "lambda")}
			}
			if fn := str(c.Data, "FunctionName"); fn != "" {
				return []Group{named(c, "/aws/lambda/"+fn, "lambda")}
			}
			return nil
		}},
	{Type: "aws.apigateway.rest-api", Doc: "API-Gateway-Execution-Logs_<restApiId>/ (every stage)",
		Groups: func(c *model.Component) []Group {
			if id := str(c.Data, "Id"); id != "" {
				return []Group{prefixed(c, "API-Gateway-Execution-Logs_"+id+"/", "apigateway-execution")}
			}
			return nil
		}},
	{Type: "aws.apigateway.stage", Doc: "API-Gateway-Execution-Logs_<restApiId>/<stage>, and the access log group of AccessLogSettings",
		Groups: func(c *model.Component) []Group {
			var out []Group
			api, _, _ := strings.Cut(after(c.ID, "::/restapis/"), "/")
			if stage := str(c.Data, "StageName"); api != "" && stage != "" {
				out = append(out, named(c, "API-Gateway-Execution-Logs_"+api+"/"+stage, "apigateway-execution"))
			}
			if g, ok := fromARN(c, str(c.Data, "AccessLogSettings", "DestinationArn"), "apigateway-access"); ok {
				out = append(out, g)
			}
			return out
		}},
	{Type: "aws.apigatewayv2.stage", Doc: "the access log group of AccessLogSettings",
		Groups: func(c *model.Component) []Group {
			if g, ok := fromARN(c, str(c.Data, "AccessLogSettings", "DestinationArn"), "apigateway-access"); ok {
				return []Group{g}
			}
			return nil
		}},
	{Type: "aws.rds.instance", Doc: "/aws/rds/instance/<DBInstanceIdentifier>/ (one group per exported log type)",
		Groups: func(c *model.Component) []Group {
			if id := str(c.Data, "DBInstanceIdentifier"); id != "" {
				return []Group{prefixed(c, "/aws/rds/instance/"+id+"/", "rds")}
			}
			return nil
		}},
	{Type: "aws.rds.cluster", Doc: "/aws/rds/cluster/<DBClusterIdentifier>/ (one group per exported log type)",
		Groups: func(c *model.Component) []Group {
			if id := str(c.Data, "DBClusterIdentifier"); id != "" {
				return []Group{prefixed(c, "/aws/rds/cluster/"+id+"/", "rds")}
			}
			return nil
		}},
	{Type: "aws.eks.cluster", Doc: "/aws/eks/<Name>/cluster (control plane logs)",
		Groups: func(c *model.Component) []Group {
			if n := str(c.Data, "Name"); n != "" {
				return []Group{named(c, "/aws/eks/"+n+"/cluster", "eks")}
			}
			return nil
		}},
	{Type: "aws.stepfunction.statemachine", Doc: "the log groups of LoggingConfiguration.Destinations",
		Groups: func(c *model.Component) []Group {
			var out []Group
			lc, _ := c.Data["LoggingConfiguration"].(map[string]any)
			dests, _ := lc["Destinations"].([]any)
			for _, d := range dests {
				dm, _ := d.(map[string]any)
				if g, ok := fromARN(c, str(dm, "CloudWatchLogsLogGroup", "LogGroupArn"), "stepfunctions"); ok {
					out = append(out, g)
				}
			}
			return out
		}},
}

var byType = func() map[string]*Source {
	m := make(map[string]*Source, len(sources))
	for i := range sources {
		if m[sources[i].Type] != nil {
			panic("logs: two sources for " + sources[i].Type)
		}
		m[sources[i].Type] = &sources[i]
	}
	return m
}()

// Sources returns the table: one row per component type with log groups.
func Sources() []Source { return sources }

// Mapping is a log group mapped to a component by configuration
// (logs.groups).
type Mapping struct {
	// Component is the component's id or any of its identifiers.
	Component string
	// Group is a log group name, a name prefix ending in "*", or a log
	// group ARN (arn:...:logs:<region>:<account>:log-group:<name>).
	Group string
}

// ErrNoGroups is what Groups returns, wrapped, for a component without log
// groups.
var ErrNoGroups = errors.New("no log groups")

// Groups returns the log groups of c: those of the table and those of the
// mappings whose Component resolve maps to c's id, without duplicates. It
// fails with ErrNoGroups, saying why, when there are none.
func Groups(c *model.Component, mappings []Mapping, resolve func(ref string) (id string, ok bool)) ([]Group, error) {
	var out []Group
	src := byType[c.Type]
	if src != nil {
		out = src.Groups(c)
	}
	for _, m := range mappings {
		if id, ok := resolve(m.Component); !ok || id != c.ID {
			continue
		}
		if g, ok := fromARN(c, m.Group, "config"); ok {
			out = append(out, g)
		} else if name, ok := strings.CutSuffix(m.Group, "*"); ok {
			out = append(out, prefixed(c, name, "config"))
		} else {
			out = append(out, named(c, m.Group, "config"))
		}
	}
	out = slices.DeleteFunc(out, func(g Group) bool { return g.Account == "" || g.Region == "" || g.Name == "" })
	slices.SortStableFunc(out, func(a, b Group) int { return strings.Compare(a.key(), b.key()) })
	out = slices.CompactFunc(out, func(a, b Group) bool { return a.key() == b.key() })
	if len(out) > 0 {
		return out, nil
	}
	if src == nil {
		return nil, fmt.Errorf("%w: %s: components of type %s have no log groups in skymap's table, and logs.groups maps none to it", ErrNoGroups, c.ID, c.Type)
	}
	return nil, fmt.Errorf("%w: %s: its description lacks what names its log groups (%s)", ErrNoGroups, c.ID, src.Doc)
}

func (g Group) key() string {
	k := g.Account + "|" + g.Region + "|" + g.Name
	if g.Prefix {
		k += "*"
	}
	return k
}

// groupName is what CloudWatch accepts as a log group name.
var groupName = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]{1,512}$`)

// ValidName tells whether s is a valid log group name (or prefix).
func ValidName(s string) bool { return groupName.MatchString(s) }

func named(c *model.Component, name, source string) Group {
	return Group{Account: c.Account, Region: c.Region, Name: name, Source: source}
}

func prefixed(c *model.Component, prefix, source string) Group {
	g := named(c, prefix, source)
	g.Prefix = true
	return g
}

// fromARN reads a log group ARN (arn:<p>:logs:<region>:<account>:log-group:<name>[:*]):
// a group may be in another account or region than its component.
func fromARN(c *model.Component, arn, source string) (Group, bool) {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) != 7 || parts[0] != "arn" || parts[2] != "logs" || parts[5] != "log-group" {
		return Group{}, false
	}
	name := strings.TrimSuffix(parts[6], ":*")
	if !ValidName(name) {
		return Group{}, false
	}
	g := named(c, name, source)
	if parts[3] != "" {
		g.Region = parts[3]
	}
	if parts[4] != "" {
		g.Account = parts[4]
	}
	return g, true
}

// str reads a string at path in nested data maps.
func str(data map[string]any, path ...string) string {
	var v any = data
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

func after(s, marker string) string {
	if i := strings.Index(s, marker); i >= 0 {
		return s[i+len(marker):]
	}
	return ""
}
