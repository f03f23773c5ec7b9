package awstest

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Built is what Build created: every value moto generated for the estate
// (ids, association ids, MAC addresses, IPs and DNS names of instances) and
// the stable placeholder that stands for it, such as "<vpc:prod>",
// "<i:web-1>", "<ip:web-1>" or "<sg:default:prod>".
//
// Placeholders are "<kind:label>". Kinds are the AWS id prefixes (vpc,
// subnet, sg, sgr, igw, vgw, rtb, rtbassoc, acl, aclassoc, vpc-cidr-assoc,
// i, r, eni, eni-attach, vol) plus mac, ip, public-ip, dns, public-dns and
// eni-public-dns. Labels are the declared names; what moto creates by itself
// is labelled "default:<vpc label>" (security group, network ACL), "main:<vpc
// label>" (route table), "default:<region>" (default VPC) and
// "default:<availability zone>" (default subnets), with "<account>/" before
// the region or zone in accounts other than DefaultAccount. Security group
// rules are numbered per group in a fixed order: "<sgr:web:0>".
//
// The zero value knows no ids: Normalize returns its input.
type Built struct {
	placeholders map[string]string // generated value -> placeholder
	ids          map[string]string // placeholder -> generated value
	re           *regexp.Regexp
}

func newBuilt() *Built {
	return &Built{placeholders: map[string]string{}, ids: map[string]string{}}
}

// add maps id to "<kind:label>". An empty id is ignored: moto leaves some
// fields unset. Two values for one placeholder, or two placeholders for one
// value, are errors, since Normalize would then lose information.
func (b *Built) add(id, kind, label string) error {
	if id == "" {
		return nil
	}
	ph := "<" + kind + ":" + label + ">"
	if old, ok := b.placeholders[id]; ok && old != ph {
		return fmt.Errorf("awstest: %s is both %s and %s; give the estate distinct names and CIDRs", id, old, ph)
	}
	if old, ok := b.ids[ph]; ok && old != id {
		return fmt.Errorf("awstest: %s stands for both %s and %s", ph, old, id)
	}
	b.placeholders[id], b.ids[ph] = ph, id
	return nil
}

// compile builds the matcher Normalize uses: one alternation, longest value
// first, so that of two values where one is a prefix of the other the longer
// wins; and bounded by \b, so that "10.0.1.1" never matches inside
// "10.0.1.12".
func (b *Built) compile() {
	keys := slices.SortedFunc(maps.Keys(b.placeholders), func(x, y string) int {
		return cmp.Or(cmp.Compare(len(y), len(x)), strings.Compare(x, y))
	})
	if len(keys) == 0 {
		return
	}
	quoted := make([]string, len(keys))
	for i, k := range keys {
		quoted[i] = regexp.QuoteMeta(k)
	}
	b.re = regexp.MustCompile(`\b(?:` + strings.Join(quoted, "|") + `)\b`)
}

// Normalize replaces every generated value in s by its placeholder. Output
// that lists resources in id order must be sorted again after normalizing,
// since moto's ids are random.
func (b *Built) Normalize(s string) string {
	if b == nil || b.re == nil {
		return s
	}
	return b.re.ReplaceAllStringFunc(s, func(id string) string { return b.placeholders[id] })
}

// ID returns the generated value a placeholder stands for, e.g. the
// instance id of "<i:web-1>" or the private IP of "<ip:web-1>".
func (b *Built) ID(placeholder string) (string, bool) {
	if b == nil {
		return "", false
	}
	id, ok := b.ids[placeholder]
	return id, ok
}

// Placeholder returns the placeholder of a generated value.
func (b *Built) Placeholder(id string) (string, bool) {
	if b == nil {
		return "", false
	}
	ph, ok := b.placeholders[id]
	return ph, ok
}

// Len returns how many generated values b knows.
func (b *Built) Len() int {
	if b == nil {
		return 0
	}
	return len(b.placeholders)
}
