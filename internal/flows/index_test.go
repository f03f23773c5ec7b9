package flows

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/skymap/skymap/internal/model"
)

// Components as the inventory writes them: an instance carrying the
// urn:vpcip identifiers of its interfaces, the interface without them
// (its owner carries them), and an interface of a service that carries
// its own (an RDS or ElastiCache interface: no component of the account
// carries the address).

func vpcIPs(vpc string, ips ...string) []string {
	var out []string
	for _, ip := range ips {
		out = append(out, vpcIPPrefix+vpc+"/"+ip)
	}
	return out
}

func testInstance(id, vpc string, ips ...string) model.Component {
	return model.Component{
		ID: id, Type: "aws.ec2.instance", Name: id, Account: "123456789012", Region: "eu-west-1",
		Identifiers: append([]string{"urn:host:/" + id}, vpcIPs(vpc, ips...)...),
		Layer:       model.LayerMachines,
		Data:        map[string]any{"InstanceId": id, "VpcId": vpc, "PrivateIpAddress": ips[0]},
	}
}

func testRDS(name, vpc string, ips ...string) model.Component {
	id := "arn:aws:rds:eu-west-1:123456789012:db:" + name
	return model.Component{
		ID: id, Type: "aws.rds.instance", Name: name, Account: "123456789012", Region: "eu-west-1",
		Identifiers: append([]string{"urn:endpoint:/" + name + ".abc.eu-west-1.rds.amazonaws.com"}, vpcIPs(vpc, ips...)...),
		Layer:       model.LayerDatabases,
	}
}

// testENI is a network interface; carries says whether it carries its
// addresses' identifiers (no other component does).
func testENI(id, vpc string, owner map[string]any, carries bool, ips ...string) model.Component {
	var addrs []any
	for i, ip := range ips {
		addrs = append(addrs, map[string]any{"PrivateIpAddress": ip, "Primary": i == 0})
	}
	c := model.Component{
		ID: id, Type: typeNetworkInterface, Name: id, Account: "123456789012", Region: "eu-west-1",
		Identifiers: []string{"arn:aws:ec2:eu-west-1:123456789012:network-interface/" + id},
		Layer:       model.LayerNetworking,
		Data: map[string]any{
			"NetworkInterfaceId": id, "VpcId": vpc, "PrivateIpAddress": ips[0],
			"PrivateIpAddresses": addrs, "Owner": owner,
		},
	}
	if carries {
		c.Identifiers = append(c.Identifiers, vpcIPs(vpc, ips...)...)
	}
	return c
}

var (
	t0   = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	addr = netip.MustParseAddr
)

func TestIndexLookup(t *testing.T) {
	comps := []model.Component{
		testInstance("i-a", "vpc-1", "10.0.1.10", "10.0.1.11"),
		testENI("eni-a", "vpc-1", map[string]any{"Kind": "instance", "Id": "i-a"}, false, "10.0.1.10", "10.0.1.11"),
		testENI("eni-cache", "vpc-1", map[string]any{"Kind": "service", "Id": "amazon-elasticache"}, true, "10.0.3.30"),
		// The same address in a second VPC, and one only there.
		testInstance("i-other", "vpc-2", "10.0.1.10"),
		testInstance("i-peer", "vpc-2", "10.9.0.5"),
	}
	x := NewIndex(comps, t0)
	at := t0.Add(time.Hour)
	for _, tt := range []struct {
		vpc, addr, want string
	}{
		{"vpc-1", "10.0.1.10", "i-a"},
		{"vpc-1", "10.0.1.11", "i-a"},
		{"vpc-2", "10.0.1.10", "i-other"},
		{"vpc-1", "10.0.3.30", "eni-cache"},
		{"vpc-1", "10.9.0.5", "i-peer"},     // peered: the one owner elsewhere
		{"", "10.9.0.5", "i-peer"},          // vpc unknown
		{"vpc-9", "10.0.3.30", "eni-cache"}, // vpc not monitored
		{"", "10.0.1.10", ""},               // two owners in two VPCs
		{"vpc-1", "10.0.1.99", ""},
		{"vpc-1", "8.8.8.8", ""},
	} {
		if got := x.Lookup(tt.vpc, addr(tt.addr), at); got != tt.want {
			t.Errorf("Lookup(%q, %s) = %q, want %q", tt.vpc, tt.addr, got, tt.want)
		}
	}
	for _, tt := range []struct {
		eni, vpc, owner string
		ok              bool
	}{
		{"eni-a", "vpc-1", "i-a", true},
		{"eni-cache", "vpc-1", "eni-cache", true},
		{"eni-nope", "", "", false},
	} {
		vpc, owner, ok := x.Interface(tt.eni, at)
		if vpc != tt.vpc || owner != tt.owner || ok != tt.ok {
			t.Errorf("Interface(%q) = %q, %q, %v; want %q, %q, %v", tt.eni, vpc, owner, ok, tt.vpc, tt.owner, tt.ok)
		}
	}
}

// TestIndexReuse: 10.0.1.10 is instance A's until t1, then instance B's.
func TestIndexReuse(t *testing.T) {
	a := testInstance("i-a", "vpc-1", "10.0.1.10")
	b := testInstance("i-b", "vpc-1", "10.0.1.10")
	x := NewIndex([]model.Component{a}, t0)
	t1 := t0.Add(2 * time.Hour)
	x.Update(&a, nil, t1)
	t2 := t1.Add(10 * time.Minute) // B is found by a later scan
	x.Update(nil, &b, t2)
	ip := addr("10.0.1.10")
	for _, tt := range []struct {
		at   time.Time
		want string
	}{
		{t0.Add(-24 * time.Hour), "i-a"}, // older than what skymap saw: the first owner
		{t0, "i-a"},
		{t1.Add(-time.Second), "i-a"},
		{t1, "i-b"}, // gap: A was seen gone, B existed before it was seen
		{t2, "i-b"},
		{t2.Add(48 * time.Hour), "i-b"},
	} {
		if got := x.Lookup("vpc-1", ip, tt.at); got != tt.want {
			t.Errorf("Lookup at %v = %q, want %q", tt.at, got, tt.want)
		}
	}
	// B goes too: after that nobody owns the address.
	t3 := t2.Add(time.Hour)
	x.Update(&b, nil, t3)
	if got := x.Lookup("vpc-1", ip, t3.Add(time.Minute)); got != "" {
		t.Errorf("after the last owner went: %q", got)
	}
	if got := x.Lookup("vpc-1", ip, t3.Add(-time.Minute)); got != "i-b" {
		t.Errorf("before the last owner went: %q", got)
	}
	// Prune forgets what ended before t2: A.
	x.Prune(t2)
	if got := x.Lookup("vpc-1", ip, t0); got != "i-b" {
		t.Errorf("after Prune, at t0: %q, want i-b (the first owner left)", got)
	}
}

// TestIndexUpdateMove: an address moves from A to B in one scan (A
// updated without it, B with it), and an overlap while only B was seen.
func TestIndexUpdateMove(t *testing.T) {
	a := testInstance("i-a", "vpc-1", "10.0.1.10", "10.0.1.20")
	b := testInstance("i-b", "vpc-1", "10.0.1.30")
	x := NewIndex([]model.Component{a, b}, t0)
	t1 := t0.Add(time.Hour)
	b2 := testInstance("i-b", "vpc-1", "10.0.1.30", "10.0.1.20") // B got it first
	x.Update(&b, &b2, t1)
	if got := x.Lookup("vpc-1", addr("10.0.1.20"), t1.Add(time.Second)); got != "i-b" {
		t.Errorf("overlap: %q, want the owner seen last", got)
	}
	a2 := testInstance("i-a", "vpc-1", "10.0.1.10")
	x.Update(&a, &a2, t1.Add(time.Minute))
	for _, tt := range []struct {
		ip   string
		at   time.Time
		want string
	}{
		{"10.0.1.20", t1.Add(-time.Second), "i-a"},
		{"10.0.1.20", t1.Add(2 * time.Minute), "i-b"},
		{"10.0.1.10", t1.Add(2 * time.Minute), "i-a"},
	} {
		if got := x.Lookup("vpc-1", addr(tt.ip), tt.at); got != tt.want {
			t.Errorf("Lookup(%s, %v) = %q, want %q", tt.ip, tt.at, got, tt.want)
		}
	}
	// An update that changes nothing publishes nothing.
	before := x.snap.Load()
	x.Update(&a2, &a2, t1.Add(time.Hour))
	if x.snap.Load() != before {
		t.Error("an unchanged component published a new snapshot")
	}
}

func TestIndexInterfaceDeleted(t *testing.T) {
	n := testENI("eni-x", "vpc-1", map[string]any{"Kind": "unattached"}, true, "10.0.5.5")
	x := NewIndex(nil, t0)
	x.Update(nil, &n, t0)
	x.Update(&n, nil, t0.Add(time.Hour))
	// Late logs still find the interface's VPC, and its owner before it went.
	vpc, owner, ok := x.Interface("eni-x", t0.Add(30*time.Minute))
	if vpc != "vpc-1" || owner != "eni-x" || !ok {
		t.Errorf("Interface after deletion = %q, %q, %v", vpc, owner, ok)
	}
	x.Prune(t0.Add(2 * time.Hour))
	if _, _, ok := x.Interface("eni-x", t0); ok {
		t.Error("Prune kept a deleted interface")
	}
}

// TestIndexConcurrent runs lookups while components change (run with
// -race).
func TestIndexConcurrent(t *testing.T) {
	var comps []model.Component
	for i := range 500 {
		comps = append(comps, testInstance(fmt.Sprintf("i-%d", i), "vpc-1", fmt.Sprintf("10.0.%d.%d", i/250, i%250+1)))
	}
	x := NewIndex(comps, t0)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				i := n % 500
				want := fmt.Sprintf("i-%d", i)
				if got := x.Lookup("vpc-1", addr(fmt.Sprintf("10.0.%d.%d", i/250, i%250+1)), t0.Add(-time.Hour)); got != want {
					t.Errorf("Lookup = %q, want %q", got, want)
					return
				}
			}
		})
	}
	for i := range 200 {
		c := testInstance(fmt.Sprintf("i-new-%d", i), "vpc-1", fmt.Sprintf("10.1.0.%d", i+1))
		x.Update(nil, &c, t0.Add(time.Duration(i)*time.Second))
	}
	close(stop)
	wg.Wait()
	if got := x.Lookup("vpc-1", addr("10.1.0.200"), t0.Add(time.Hour)); got != "i-new-199" {
		t.Errorf("after the updates: %q", got)
	}
}
