package awstest

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Validate reports every mistake in e, each prefixed with its path, e.g.
// `accounts[0].regions[0].vpcs[0].subnets[1].instances[0].security_groups[0]:
// unknown security group "wbe"`. Build calls it first.
func (e Estate) Validate() error {
	v := validator{seen: map[string]string{}}
	for ai, a := range e.Accounts {
		p := fmt.Sprintf("accounts[%d]", ai)
		if a.ID != "" && (len(a.ID) != 12 || strings.Trim(a.ID, "0123456789") != "") {
			v.errf(p+".id", "account id %q is not 12 digits", a.ID)
		}
		for ri, r := range a.Regions {
			v.region(fmt.Sprintf("%s.regions[%d]", p, ri), r)
		}
		for bi, b := range a.Buckets {
			bp := fmt.Sprintf("%s.buckets[%d]", p, bi)
			v.unique(bp, "bucket", b.Name)
			if b.Region == "" {
				v.errf(bp+".region", "missing")
			}
			for ni, n := range b.Notifications {
				if notificationKind(n.TargetARN) == "" {
					v.errf(fmt.Sprintf("%s.notifications[%d].target_arn", bp, ni),
						"%q is not an SQS, SNS or Lambda ARN", n.TargetARN)
				}
			}
		}
	}
	return errors.Join(v.errs...)
}

type validator struct {
	seen map[string]string // kind + "/" + name -> path of the first use
	errs []error
}

func (v *validator) errf(path, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

// unique checks that name is set and not used before by another of kind.
func (v *validator) unique(path, kind, name string) {
	switch {
	case name == "":
		v.errf(path+".name", "missing")
	case v.seen[kind+"/"+name] != "":
		v.errf(path+".name", "%s %q already declared at %s", kind, name, v.seen[kind+"/"+name])
	default:
		v.seen[kind+"/"+name] = path
	}
}

func (v *validator) cidr(path, s string) {
	if _, err := netip.ParsePrefix(s); err != nil {
		v.errf(path+".cidr", "%v", err)
	}
}

func (v *validator) region(p string, r Region) {
	if r.Name == "" {
		v.errf(p+".name", "missing")
	}
	for vi, vpc := range r.VPCs {
		vp := fmt.Sprintf("%s.vpcs[%d]", p, vi)
		v.unique(vp, "vpc", vpc.Name)
		v.cidr(vp, vpc.CIDR)
		if vpc.InternetGateway != "" {
			v.unique(vp+".internet_gateway", "igw", vpc.InternetGateway)
		}
		if vpc.VPNGateway != "" {
			v.unique(vp+".vpn_gateway", "vgw", vpc.VPNGateway)
		}
		var groups []string
		for _, g := range vpc.SecurityGroups {
			groups = append(groups, g.Name)
		}
		for gi, g := range vpc.SecurityGroups {
			gp := fmt.Sprintf("%s.security_groups[%d]", vp, gi)
			v.unique(gp, "sg", g.Name)
			for ri, rule := range g.Ingress {
				rp := fmt.Sprintf("%s.ingress[%d]", gp, ri)
				if (rule.CIDR == "") == (rule.SourceGroup == "") {
					v.errf(rp, "set exactly one of cidr and source_group")
				} else if rule.CIDR != "" {
					v.cidr(rp, rule.CIDR)
				} else if !slices.Contains(groups, rule.SourceGroup) {
					v.errf(rp+".source_group", "unknown security group %q", rule.SourceGroup)
				}
			}
		}
		for si, s := range vpc.Subnets {
			sp := fmt.Sprintf("%s.subnets[%d]", vp, si)
			v.unique(sp, "subnet", s.Name)
			v.cidr(sp, s.CIDR)
			if !strings.HasPrefix(s.AvailabilityZone, r.Name) {
				v.errf(sp+".availability_zone", "%q is not in region %q", s.AvailabilityZone, r.Name)
			}
			for ii, in := range s.Instances {
				ip := fmt.Sprintf("%s.instances[%d]", sp, ii)
				v.unique(ip, "instance", in.Name)
				for gi, g := range in.SecurityGroups {
					if !slices.Contains(groups, g) {
						v.errf(fmt.Sprintf("%s.security_groups[%d]", ip, gi), "unknown security group %q", g)
					}
				}
				if _, err := netip.ParseAddr(in.PrivateIP); in.PrivateIP != "" && err != nil {
					v.errf(ip+".private_ip", "%v", err)
				}
			}
		}
	}
}

// notificationKind tells which S3 notification list an ARN belongs in.
func notificationKind(arn string) string {
	parts := strings.SplitN(arn, ":", 4)
	if len(parts) < 4 || parts[0] != "arn" {
		return ""
	}
	switch parts[2] {
	case "sqs":
		return "queue"
	case "sns":
		return "topic"
	case "lambda":
		return "lambda"
	}
	return ""
}
