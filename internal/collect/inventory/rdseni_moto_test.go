package inventory

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/skymap/skymap/internal/awstest"
	"github.com/skymap/skymap/internal/model"
)

// TestRDSInterfacesMoto builds in moto a DB instance "orders" behind its
// own security group and an instance "reports" that shares its security
// group with the member of an Aurora cluster, and one interface of each
// group as RDS would make them (moto makes none). The interface of
// "orders" names it, and "orders" carries the address; the other fits two
// instances and keeps its own. Targeted re-describes of the interface agree
// with the listing; a denied DescribeDBInstances leaves the addresses on the
// interfaces, a throttled one makes the interface listing incomplete.
func TestRDSInterfacesMoto(t *testing.T) {
	m := awstest.StartT(t)
	proxy := awstest.NewProxy(t, m.URL)
	base := motoTarget(t, m, proxy.URL)
	ctx := context.Background()
	c := ec2.NewFromConfig(base.Config)
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	vpcID := aws.ToString(vpc.Vpc.VpcId)
	var subnets []string
	for i, az := range []string{"eu-west-1a", "eu-west-1b"} {
		s, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId,
			CidrBlock: aws.String([]string{"10.9.1.0/24", "10.9.2.0/24"}[i]), AvailabilityZone: aws.String(az)})
		if err != nil {
			t.Fatal(err)
		}
		subnets = append(subnets, aws.ToString(s.Subnet.SubnetId))
	}
	group := func(name string) string {
		g, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: vpc.Vpc.VpcId,
			GroupName: aws.String(name), Description: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(g.GroupId)
	}
	ordersSG, sharedSG := group("orders"), group("shared")

	r := rds.NewFromConfig(base.Config)
	if _, err := r.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("dbs"),
		DBSubnetGroupDescription: aws.String("dbs"), SubnetIds: subnets}); err != nil {
		t.Fatal(err)
	}
	for _, db := range []struct{ name, sg string }{{"orders", ordersSG}, {"reports", sharedSG}} {
		if _, err := r.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
			DBInstanceIdentifier: aws.String(db.name), DBInstanceClass: aws.String("db.t3.micro"),
			Engine: aws.String("postgres"), AllocatedStorage: aws.Int32(20),
			MasterUsername: aws.String("u"), MasterUserPassword: aws.String("not-a-real-password"),
			DBSubnetGroupName: aws.String("dbs"), VpcSecurityGroupIds: []string{db.sg},
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.CreateDBCluster(ctx, &rds.CreateDBClusterInput{
		DBClusterIdentifier: aws.String("aurora"), Engine: aws.String("aurora-postgresql"),
		MasterUsername: aws.String("u"), MasterUserPassword: aws.String("not-a-real-password"),
		DBSubnetGroupName: aws.String("dbs"), VpcSecurityGroupIds: []string{sharedSG},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("aurora-1"), DBInstanceClass: aws.String("db.r6g.large"),
		Engine: aws.String("aurora-postgresql"), DBClusterIdentifier: aws.String("aurora"), DBSubnetGroupName: aws.String("dbs"),
	}); err != nil {
		t.Fatal(err)
	}
	// moto makes no interfaces for DB instances, and cannot mark one
	// requester-managed: these carry RDS's description only.
	eni := func(ip, sg string) string {
		n, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(subnets[0]),
			PrivateIpAddress: aws.String(ip), Groups: []string{sg}, Description: aws.String("RDSNetworkInterface")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(n.NetworkInterface.NetworkInterfaceId)
	}
	ordersENI, sharedENI := eni("10.9.1.50", ordersSG), eni("10.9.1.51", sharedSG)
	ordersIP, sharedIP := vpcIP(vpcID, "10.9.1.50"), vpcIP(vpcID, "10.9.1.51")
	orders := "arn:aws:rds:eu-west-1:123456789012:db:orders"

	// scan is a fresh scan's target: what it shares is read anew.
	scan := func() Target {
		tg := base
		tg.shared = &shared{}
		return tg
	}
	byID := func(comps []model.Component) map[string]model.Component {
		out := map[string]model.Component{}
		for _, c := range comps {
			out[c.ID] = c
		}
		return out
	}

	tg := scan()
	enis, err := collectNetworkInterfaces(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	dbs, err := collectDBInstances(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	if n := proxy.Calls("DescribeDBInstances"); n != 1 {
		t.Errorf("DescribeDBInstances called %d times in one scan, want once", n)
	}
	got := byID(append(enis.Components, dbs.Components...))
	for _, tt := range []struct {
		id       string
		owner    *eniOwner
		has, not []string
	}{
		{id: ordersENI, owner: &eniOwner{ownerRDS, orders}, not: []string{ordersIP}},
		{id: sharedENI, owner: &eniOwner{Kind: ownerRDS}, has: []string{sharedIP}},
		{id: orders, has: []string{ordersIP}, not: []string{sharedIP}},
		{id: "arn:aws:rds:eu-west-1:123456789012:db:reports", not: []string{ordersIP, sharedIP}},
		{id: "arn:aws:rds:eu-west-1:123456789012:db:aurora-1", not: []string{ordersIP, sharedIP}},
	} {
		c, ok := got[tt.id]
		if !ok {
			t.Errorf("%s not listed", tt.id)
			continue
		}
		if tt.owner != nil && eniOwnerOf(t, c) != *tt.owner {
			t.Errorf("%s: owner %+v, want %+v", tt.id, eniOwnerOf(t, c), *tt.owner)
		}
		for _, ip := range tt.has {
			if !slices.Contains(c.Identifiers, ip) {
				t.Errorf("%s lacks %s: %v", tt.id, ip, c.Identifiers)
			}
		}
		for _, ip := range tt.not {
			if slices.Contains(c.Identifiers, ip) {
				t.Errorf("%s carries %s: %v", tt.id, ip, c.Identifiers)
			}
		}
	}

	// A targeted re-describe, as an event asks for, tells the same owner.
	res, err := describeInterfaces(ctx, scan(), []string{ordersENI})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Components) != 1 || eniOwnerOf(t, res.Components[0]) != (eniOwner{ownerRDS, orders}) ||
		slices.Contains(res.Components[0].Identifiers, ordersIP) {
		t.Errorf("re-described %s: %+v", ordersENI, res.Components)
	}

	// DescribeDBInstances denied: the interfaces keep their addresses and
	// their listing stays complete.
	proxy.Fail("DescribeDBInstances", awstest.Denied("AccessDenied"))
	tg = scan()
	enis, err = collectNetworkInterfaces(ctx, tg)
	if err != nil {
		t.Errorf("interfaces with DB instances denied: %v", err)
	}
	if c := byID(enis.Components)[ordersENI]; !slices.Contains(c.Identifiers, ordersIP) || eniOwnerOf(t, c) != (eniOwner{Kind: ownerRDS}) {
		t.Errorf("with DB instances denied, %s: owner %+v, identifiers %v", ordersENI, eniOwnerOf(t, c), c.Identifiers)
	}
	if _, err := collectDBInstances(ctx, tg); err == nil {
		t.Error("DB instances denied, yet listed")
	}

	// Throttled: the interface listing is incomplete, so it keeps what it
	// had rather than hand the address to both components.
	proxy.Clear()
	proxy.Fail("DescribeDBInstances", awstest.Fault{Status: http.StatusBadRequest, Code: "Throttling", Message: "slow down"})
	if _, err := collectNetworkInterfaces(ctx, scan()); err == nil {
		t.Error("interfaces with DB instances throttled: no error")
	}

	// No RDS interface, no DescribeDBInstances from the interface listing.
	proxy.Clear()
	for _, id := range []string{ordersENI, sharedENI} {
		if _, err := c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(id)}); err != nil {
			t.Fatal(err)
		}
	}
	before := proxy.Calls("DescribeDBInstances")
	if _, err := collectNetworkInterfaces(ctx, scan()); err != nil {
		t.Fatal(err)
	}
	if n := proxy.Calls("DescribeDBInstances") - before; n != 0 {
		t.Errorf("interfaces without RDS ones called DescribeDBInstances %d times", n)
	}
}
