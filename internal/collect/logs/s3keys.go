package logs

import (
	"regexp"
	"strings"
	"time"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

// The keys of the log objects AWS delivers to S3, and the key prefixes
// that list them a load balancer or a distribution at a time, from a time
// on: every key continues its resource's stem with a UTC time that sorts
// as text.

// Kind is a kind of log AWS delivers to S3.
type Kind string

// The kinds skymap reads.
const (
	// KindALB: Application Load Balancer access logs,
	// [prefix/]AWSLogs/<account>/elasticloadbalancing/<region>/yyyy/mm/dd/
	// <account>_elasticloadbalancing_<region>_app.<name>.<id>_<end>_<ip>_<random>.log.gz.
	KindALB Kind = "alb"
	// KindELB: Classic Load Balancer access logs, in the same folders,
	// plain text: ..._<region>_<name>_<end>_<ip>_<random>.log.
	KindELB Kind = "elb"
	// KindCloudFront: CloudFront standard logs (legacy),
	// <prefix><distribution-id>.yyyy-mm-dd-hh.<unique>.gz.
	KindCloudFront Kind = "cloudfront"
)

// Kinds are the kinds skymap reads, for the configuration.
var Kinds = []Kind{KindALB, KindELB, KindCloudFront}

// componentKinds maps the component types with delivered logs to their kind.
var componentKinds = map[string]Kind{
	"aws.elb-v2.application-load-balancer": KindALB,
	"aws.elb-classic.load-balancer":        KindELB,
	"aws.cloudfront.distribution":          KindCloudFront,
}

// ObjectKey is what the key of a delivered log object says.
type ObjectKey struct {
	Kind Kind
	// Resource is the load balancer's ARN (in the partition of its
	// region), or the distribution's id.
	Resource string
	// Account and Region are the load balancer's; "" for CloudFront.
	Account, Region string
	// Time is, for a load balancer, the end of the five minutes its
	// object covers; for CloudFront, the start of the hour its requests
	// were received in (UTC).
	Time time.Time
}

// elbKey is the documented key of a load balancer's access log object. A
// network load balancer's (net.<name>.<id>, TLS listeners only) are of
// another format, not read.
var elbKey = regexp.MustCompile(`(?:^|/)AWSLogs/(\d{12})/elasticloadbalancing/([a-z0-9-]+)/\d{4}/\d{2}/\d{2}/` +
	`(\d{12})_elasticloadbalancing_([a-z0-9-]+)_(?:app\.([A-Za-z0-9-]{1,32})\.([0-9a-f]{16})|([A-Za-z0-9-]{1,32}))_` +
	`(\d{8}T\d{4}Z)_[^/_]+_[^/_]+\.log(?:\.gz)?$`)

// ParseELBKey reads the key of an Application or Classic Load Balancer's
// access log object, with or without a prefix before AWSLogs/; false for
// another key.
func ParseELBKey(key string) (ObjectKey, bool) {
	m := elbKey.FindStringSubmatch(key)
	if m == nil || m[1] != m[3] || m[2] != m[4] {
		return ObjectKey{}, false
	}
	end, err := time.Parse(elbKeyTime, m[8])
	if err != nil {
		return ObjectKey{}, false
	}
	k := ObjectKey{Kind: KindELB, Account: m[1], Region: m[2], Time: end}
	resource := m[7]
	if m[5] != "" {
		k.Kind, resource = KindALB, "app/"+m[5]+"/"+m[6]
	}
	k.Resource = loadBalancerARN(k.Region, k.Account, resource)
	return k, true
}

// elbKeyTime is the layout of the end time in a load balancer's key.
const elbKeyTime = "20060102T1504Z"

// loadBalancerARN builds a load balancer's ARN: resource is
// app/<name>/<id> or a classic load balancer's name.
func loadBalancerARN(region, account, resource string) string {
	p := "aws"
	if part, ok := partition.OfRegion(region); ok {
		p = part.ID
	}
	return "arn:" + p + ":elasticloadbalancing:" + region + ":" + account + ":loadbalancer/" + resource
}

// cloudFrontName is the documented name of a CloudFront standard log
// object after its prefix: <distribution-id>.yyyy-mm-dd-hh.<unique>.gz.
// AWS's ids start with E; emulators' with any capital.
var cloudFrontName = regexp.MustCompile(`^(` + distributionIDPattern + `)\.(\d{4}-\d{2}-\d{2}-\d{2})\.[A-Za-z0-9]+\.gz$`)

// distributionIDPattern is what a distribution id looks like.
const distributionIDPattern = `[A-Z][A-Z0-9]{4,20}`

// distributionIDs matches a distribution id.
var distributionIDs = regexp.MustCompile(`^` + distributionIDPattern + `$`)

// ParseCloudFrontKey reads the key of a CloudFront standard log object
// written with prefix (which need not end in "/"); false for another key.
func ParseCloudFrontKey(key, prefix string) (ObjectKey, bool) {
	name, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return ObjectKey{}, false
	}
	m := cloudFrontName.FindStringSubmatch(name)
	if m == nil {
		return ObjectKey{}, false
	}
	hour, err := time.Parse(cloudFrontKeyTime, m[2])
	if err != nil {
		return ObjectKey{}, false
	}
	return ObjectKey{Kind: KindCloudFront, Resource: m[1], Time: hour}, true
}

// cloudFrontKeyTime is the layout of the hour in a CloudFront key.
const cloudFrontKeyTime = "2006-01-02-15"

// folder makes a load balancer log prefix a folder: AWS writes under
// <prefix>/AWSLogs/.
func folder(prefix string) string {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		return prefix + "/"
	}
	return prefix
}

// elbAccounts is the prefix whose folders are the accounts with load
// balancer logs under prefix.
func elbAccounts(prefix string) string { return folder(prefix) + "AWSLogs/" }

// elbDay is the prefix of the load balancer logs of an account and region
// on a day: the stems of the load balancers follow.
func elbDay(prefix, account, region string, day time.Time) string {
	return elbAccounts(prefix) + account + "/elasticloadbalancing/" + region + "/" + day.Format("2006/01/02") + "/" +
		account + "_elasticloadbalancing_" + region + "_"
}

// elbStemName is the part of a load balancer's keys that names it, after
// elbDay: app.<name>.<id>_ or <name>_; false for a component that is no
// load balancer of kind k.
func elbStemName(k Kind, arn string) (string, bool) {
	a, ok := partition.ParseARN(arn)
	if !ok || a.Service != "elasticloadbalancing" {
		return "", false
	}
	res, ok := strings.CutPrefix(a.Resource, "loadbalancer/")
	if !ok {
		return "", false
	}
	parts := strings.Split(res, "/")
	switch {
	case k == KindALB && len(parts) == 3 && parts[0] == "app":
		return "app." + parts[1] + "." + parts[2] + "_", true
	case k == KindELB && len(parts) == 1 && parts[0] != "":
		return parts[0] + "_", true
	}
	return "", false
}

// stemKind tells of what kind the load balancer is whose stem (after
// elbDay) this is: app.<name>.<id>_ is an ALB, net.<name>.<id>_ a network
// load balancer (not read), any other <name>_ a classic one.
func stemKind(stem string) (Kind, bool) {
	switch {
	case strings.HasPrefix(stem, "app."):
		return KindALB, true
	case strings.HasPrefix(stem, "net."):
		return "", false
	}
	return KindELB, true
}

// stemTime is what follows a stem in the keys of objects from t on.
func stemTime(k Kind, t time.Time) string {
	if k == KindCloudFront {
		return t.UTC().Format(cloudFrontKeyTime)
	}
	return t.UTC().Format(elbKeyTime)
}

// utcDay is the UTC midnight that starts t's day.
func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// distributionID is a distribution component's id, from its data or its
// ARN (arn:<p>:cloudfront::<account>:distribution/<id>).
func distributionID(c *model.Component) string {
	if id := str(c.Data, "Id"); id != "" {
		return id
	}
	if i := strings.LastIndex(c.ID, ":distribution/"); i >= 0 {
		return c.ID[i+len(":distribution/"):]
	}
	return ""
}
