package flowlogs

import (
	"strconv"
	"strings"
	"time"

	"github.com/skymap/skymap/internal/partition"
)

// ParseKey returns the account and region of a flow-log object key, as
// AWS writes VPC and Transit Gateway flow logs to S3 (both under
// "vpcflowlogs"), with or without a user prefix before "AWSLogs/":
//
//	[<prefix>/]AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/[<hh>/]<file>
//	[<prefix>/]AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/year=<yyyy>/month=<mm>/day=<dd>/[hour=<hh>/]<file>
//
// The second is the Hive-compatible layout. ok is false for any other key,
// including a folder marker (no file) and a date that does not exist.
func ParseKey(key string) (account, region string, ok bool) {
	k, ok := parseKey(key)
	return k.account, k.region, ok
}

// flowKey is what a flow-log key says.
type flowKey struct {
	account, region string
	day             time.Time // UTC midnight of the key's date
}

// parseKey parses key as ParseKey does, and its date. A user prefix may
// itself hold "AWSLogs/": each occurrence is tried, first to last.
func parseKey(key string) (flowKey, bool) {
	const root = "AWSLogs/"
	for i := 0; ; {
		j := strings.Index(key[i:], root)
		if j < 0 {
			return flowKey{}, false
		}
		at := i + j
		if at == 0 || key[at-1] == '/' {
			if k, ok := parseFromRoot(key[at+len(root):]); ok {
				return k, true
			}
		}
		i = at + 1
	}
}

// parseFromRoot parses what follows "AWSLogs/".
func parseFromRoot(rest string) (flowKey, bool) {
	parts := strings.Split(rest, "/")
	if len(parts) != 7 && len(parts) != 8 {
		return flowKey{}, false
	}
	file := parts[len(parts)-1]
	if file == "" || file == "." || file == ".." {
		return flowKey{}, false
	}
	hive := strings.HasPrefix(parts[0], "aws-account-id=")
	names := []string{"", "", "", "", "", "", ""}
	if hive {
		names = []string{"aws-account-id=", "aws-service=", "aws-region=", "year=", "month=", "day=", "hour="}
	}
	vals := make([]string, len(parts)-1)
	for i := range vals {
		v, ok := strings.CutPrefix(parts[i], names[i])
		if !ok {
			return flowKey{}, false
		}
		vals[i] = v
	}
	if vals[1] != "vpcflowlogs" || !partition.IsAccountID(vals[0]) || !isRegion(vals[2]) {
		return flowKey{}, false
	}
	year, ok1 := digits(vals[3], 4)
	month, ok2 := digits(vals[4], 2)
	day, ok3 := digits(vals[5], 2)
	if !ok1 || !ok2 || !ok3 || year < 2000 {
		return flowKey{}, false
	}
	if len(vals) == 7 {
		if h, ok := digits(vals[6], 2); !ok || h > 23 {
			return flowKey{}, false
		}
	}
	d := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if d.Year() != year || int(d.Month()) != month || d.Day() != day {
		return flowKey{}, false // 2026/02/30 and the like
	}
	return flowKey{account: vals[0], region: vals[2], day: d}, true
}

// digits parses s of exactly n ASCII digits.
func digits(s string, n int) (int, bool) {
	if len(s) != n {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.Atoi(s)
	return v, err == nil
}

// isRegion tells whether s looks like a region name: lower-case words
// joined by '-', the last a number ("us-east-1", "us-gov-west-1",
// "cn-northwest-1", "eu-isoe-west-1").
func isRegion(s string) bool {
	words := strings.Split(s, "-")
	if len(words) < 3 || len(s) > 32 {
		return false
	}
	for i, w := range words {
		if w == "" {
			return false
		}
		for j := 0; j < len(w); j++ {
			c := w[j]
			letter, digit := c >= 'a' && c <= 'z', c >= '0' && c <= '9'
			switch {
			case i == len(words)-1 && !digit:
				return false
			case i < len(words)-1 && !letter:
				return false
			}
		}
	}
	return true
}

// dayPrefixes are the key prefixes of one account, region and UTC day in
// both layouts, after the user prefix.
func dayPrefixes(prefix, account, region string, day time.Time) []string {
	y, m, d := day.Date()
	ys, ms, ds := strconv.Itoa(y), pad2(int(m)), pad2(d)
	root := prefix + "AWSLogs/"
	return []string{
		root + account + "/vpcflowlogs/" + region + "/" + ys + "/" + ms + "/" + ds + "/",
		root + "aws-account-id=" + account + "/aws-service=vpcflowlogs/aws-region=" + region +
			"/year=" + ys + "/month=" + ms + "/day=" + ds + "/",
	}
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// utcDay is the UTC midnight that starts t's day.
func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
