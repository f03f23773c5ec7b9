package inventory

import (
	"net"
	"net/url"
	"strings"

	"github.com/skymap/skymap/internal/partition"
)

// reference turns a value that may name a resource (an environment
// variable, a notification or subscription endpoint, a CloudFormation
// physical id) into the identifier the inventory gives that resource, or ""
// when the value names none. It resolves by structure, not by AWS naming
// patterns, so that legacy forms, other partitions and emulators work:
//   - an ARN is its own identifier;
//   - a URL whose path is /<account>/<name> is an SQS queue, whatever its
//     host (sqs.<region>.amazonaws.com, the legacy <region>.queue.amazonaws.com,
//     a VPC endpoint or an emulator): its ARN, in the region named by a
//     label of the host or else the target's region;
//   - any other URL, host or host:port is an endpoint, urn:endpoint:/<host>,
//     the identifier databases, caches, load balancers and distributions
//     carry for their DNS names.
//
// IP addresses and plain words name nothing.
func (t Target) reference(v string) string {
	v = strings.TrimSpace(v)
	if v == "" || strings.ContainsAny(v, " \t\r\n\"'<>{}") {
		return ""
	}
	if a, ok := partition.ParseARN(v); ok && a.Resource != "" {
		return v
	}
	if strings.Contains(v, "://") {
		return t.urlReference(v)
	}
	host := v
	if h, _, err := net.SplitHostPort(v); err == nil {
		host = h
	}
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	return endpointRef(host)
}

func (t Target) urlReference(v string) string {
	// jdbc:postgresql://host:5432/db and similar wrap a URL in a scheme.
	if i := strings.Index(v, "://"); strings.Contains(v[:i], ":") {
		v = v[strings.LastIndex(v[:i], ":")+1:]
	}
	u, err := url.Parse(v)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	if seg := strings.Split(strings.Trim(u.Path, "/"), "/"); (u.Scheme == "https" || u.Scheme == "http") &&
		len(seg) == 2 && partition.IsAccountID(seg[0]) && seg[1] != "" {
		region := t.Region
		for _, label := range strings.Split(host, ".") {
			if label != partition.Global && label != partition.All && partition.KnownRegion(t.Partition.ID, label) {
				region = label
				break
			}
		}
		return "arn:" + t.Partition.ID + ":sqs:" + region + ":" + seg[0] + ":" + seg[1]
	}
	return endpointRef(host)
}

// endpointRef is the identifier of a DNS name, "" for anything that is not
// one (IP addresses, single words, invalid characters).
func endpointRef(host string) string {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if !strings.Contains(host, ".") || net.ParseIP(host) != nil {
		return ""
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return ""
		}
	}
	// A top-level domain is letters (or punycode): "1.0.0-snapshot" and
	// other version strings are not host names.
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" || !strings.HasPrefix(last, "xn--") && strings.Trim(last, "abcdefghijklmnopqrstuvwxyz") != "" {
		return ""
	}
	return endpointURN(host)
}

// endpointURN is the identifier a component carries for one of its DNS
// names (TOPOLOGY.md: urn:endpoint:/<dns-name>).
func endpointURN(dns string) string {
	return "urn:endpoint:/" + strings.TrimSuffix(strings.ToLower(dns), ".")
}
