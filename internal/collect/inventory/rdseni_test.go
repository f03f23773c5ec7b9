package inventory

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/skymap/skymap/internal/model"
)

// rdsENI is an interface as RDS makes it, in vpc-1.
func rdsENI(id, ip, subnet string, groups ...string) ec2types.NetworkInterface {
	n := ec2types.NetworkInterface{
		NetworkInterfaceId: aws.String(id), Description: aws.String("RDSNetworkInterface"),
		RequesterManaged: aws.Bool(true), RequesterId: aws.String("amazon-rds"),
		Attachment: &ec2types.NetworkInterfaceAttachment{InstanceOwnerId: aws.String("amazon-rds")},
		Status:     ec2types.NetworkInterfaceStatusInUse,
		VpcId:      aws.String("vpc-1"), SubnetId: aws.String(subnet), PrivateIpAddress: aws.String(ip),
		PrivateIpAddresses: []ec2types.NetworkInterfacePrivateIpAddress{{PrivateIpAddress: aws.String(ip), Primary: aws.Bool(true)}},
	}
	for _, g := range groups {
		n.Groups = append(n.Groups, ec2types.GroupIdentifier{GroupId: aws.String(g)})
	}
	return n
}

// rdsDB is a DB instance of account 123456789012 in eu-west-1 whose subnet
// group holds subnets.
func rdsDB(name string, subnets []string, groups ...string) rdstypes.DBInstance {
	db := rdstypes.DBInstance{
		DBInstanceIdentifier: aws.String(name), DBInstanceArn: aws.String(dbARN(name)),
		DBSubnetGroup: &rdstypes.DBSubnetGroup{DBSubnetGroupName: aws.String("db"), VpcId: aws.String("vpc-1")},
	}
	for _, s := range subnets {
		db.DBSubnetGroup.Subnets = append(db.DBSubnetGroup.Subnets, rdstypes.Subnet{SubnetIdentifier: aws.String(s)})
	}
	for _, g := range groups {
		db.VpcSecurityGroups = append(db.VpcSecurityGroups, rdstypes.VpcSecurityGroupMembership{
			VpcSecurityGroupId: aws.String(g), Status: aws.String("active")})
	}
	return db
}

func dbARN(name string) string { return "arn:aws:rds:eu-west-1:123456789012:db:" + name }

// eniOwnerOf is the owner a network interface component names in its data.
func eniOwnerOf(t *testing.T, c model.Component) eniOwner {
	t.Helper()
	b, err := json.Marshal(c.Data["Owner"])
	if err != nil {
		t.Fatal(err)
	}
	var o eniOwner
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// vpcIPsOf returns the urn:vpcip identifiers of components by id.
func vpcIPsOf(comps []model.Component) map[string][]string {
	out := map[string][]string{}
	for _, c := range comps {
		for _, id := range c.Identifiers {
			if strings.HasPrefix(id, "urn:vpcip:") {
				out[c.ID] = append(out[c.ID], id)
			}
		}
	}
	return out
}

// TestRDSInterfaceOwners runs the interface and DB instance listings of one
// scan over hand-built interfaces and DB instances: each RDS address is
// named by the one DB instance it belongs to, or else by its interface.
func TestRDSInterfaceOwners(t *testing.T) {
	ab := []string{"subnet-a", "subnet-b"}
	moto := rdsENI("eni-moto", "10.0.1.7", "subnet-a", "sg-db")
	moto.RequesterManaged, moto.RequesterId, moto.Attachment, moto.Status = nil, nil, nil, ec2types.NetworkInterfaceStatusAvailable
	other := rdsENI("eni-other", "10.0.1.8", "subnet-a", "sg-db")
	other.RequesterId = aws.String("amazon-elasticache")
	tests := []struct {
		name    string
		enis    []ec2types.NetworkInterface
		dbs     []rdstypes.DBInstance
		dbsErr  error
		owners  map[string]eniOwner // by interface id
		ips     map[string][]string // urn:vpcip identifiers by component id
		wantErr bool
	}{
		{
			name: "unique match, primary and standby",
			enis: []ec2types.NetworkInterface{rdsENI("eni-1", "10.0.1.5", "subnet-a", "sg-db"), rdsENI("eni-2", "10.0.2.5", "subnet-b", "sg-db")},
			dbs:  []rdstypes.DBInstance{rdsDB("orders", ab, "sg-db"), rdsDB("reports", ab, "sg-reports")},
			owners: map[string]eniOwner{
				"eni-1": {ownerRDS, dbARN("orders")}, "eni-2": {ownerRDS, dbARN("orders")},
			},
			ips: map[string][]string{dbARN("orders"): {"urn:vpcip:vpc-1/10.0.1.5", "urn:vpcip:vpc-1/10.0.2.5"}},
		},
		{
			name:   "ambiguous: two instances share subnet group and security groups",
			enis:   []ec2types.NetworkInterface{rdsENI("eni-1", "10.0.1.5", "subnet-a", "sg-db")},
			dbs:    []rdstypes.DBInstance{rdsDB("orders", ab, "sg-db"), rdsDB("orders-replica", ab, "sg-db")},
			owners: map[string]eniOwner{"eni-1": {Kind: ownerRDS}},
			ips:    map[string][]string{"eni-1": {"urn:vpcip:vpc-1/10.0.1.5"}},
		},
		{
			name: "ambiguous with an Aurora cluster member",
			enis: []ec2types.NetworkInterface{rdsENI("eni-1", "10.0.1.5", "subnet-a", "sg-db")},
			dbs: func() []rdstypes.DBInstance {
				member := rdsDB("aurora-1", ab, "sg-db")
				member.DBClusterIdentifier = aws.String("aurora")
				return []rdstypes.DBInstance{rdsDB("orders", ab, "sg-db"), member}
			}(),
			owners: map[string]eniOwner{"eni-1": {Kind: ownerRDS}},
			ips:    map[string][]string{"eni-1": {"urn:vpcip:vpc-1/10.0.1.5"}},
		},
		{
			name: "security groups: a subset or superset is not the same set",
			enis: []ec2types.NetworkInterface{
				rdsENI("eni-1", "10.0.1.5", "subnet-a", "sg-db", "sg-extra"), rdsENI("eni-2", "10.0.1.6", "subnet-a")},
			dbs:    []rdstypes.DBInstance{rdsDB("orders", ab, "sg-db")},
			owners: map[string]eniOwner{"eni-1": {Kind: ownerRDS}, "eni-2": {Kind: ownerRDS}},
			ips: map[string][]string{
				"eni-1": {"urn:vpcip:vpc-1/10.0.1.5"}, "eni-2": {"urn:vpcip:vpc-1/10.0.1.6"}},
		},
		{
			name: "security groups in another order and repeated are the same set",
			enis: []ec2types.NetworkInterface{rdsENI("eni-1", "10.0.1.5", "subnet-a", "sg-b", "sg-a", "sg-b")},
			dbs: []rdstypes.DBInstance{rdsDB("orders", ab, "sg-a", "sg-b"),
				rdsDB("reports", ab, "sg-a")},
			owners: map[string]eniOwner{"eni-1": {ownerRDS, dbARN("orders")}},
			ips:    map[string][]string{dbARN("orders"): {"urn:vpcip:vpc-1/10.0.1.5"}},
		},
		{
			name: "subnet outside the instance's subnet group",
			enis: []ec2types.NetworkInterface{rdsENI("eni-1", "10.0.3.5", "subnet-c", "sg-db")},
			dbs:  []rdstypes.DBInstance{rdsDB("orders", ab, "sg-db")},
			// The instance in subnet-c is another one, with another subnet group.
			owners: map[string]eniOwner{"eni-1": {Kind: ownerRDS}},
			ips:    map[string][]string{"eni-1": {"urn:vpcip:vpc-1/10.0.3.5"}},
		},
		{
			name:   "an emulator's interface, described only",
			enis:   []ec2types.NetworkInterface{moto},
			dbs:    []rdstypes.DBInstance{rdsDB("orders", ab, "sg-db")},
			owners: map[string]eniOwner{"eni-moto": {ownerRDS, dbARN("orders")}},
			ips:    map[string][]string{dbARN("orders"): {"urn:vpcip:vpc-1/10.0.1.7"}},
		},
		{
			name:   "another service's interface with RDS's description",
			enis:   []ec2types.NetworkInterface{other},
			dbs:    []rdstypes.DBInstance{rdsDB("orders", ab, "sg-db")},
			owners: map[string]eniOwner{"eni-other": {ownerService, "amazon-elasticache"}},
			ips:    map[string][]string{"eni-other": {"urn:vpcip:vpc-1/10.0.1.8"}},
		},
		{
			name: "an instance without a name owns nothing but still makes others ambiguous",
			enis: []ec2types.NetworkInterface{rdsENI("eni-1", "10.0.1.5", "subnet-a", "sg-db")},
			dbs: func() []rdstypes.DBInstance {
				nameless := rdsDB("", ab, "sg-db")
				nameless.DBInstanceArn = aws.String(dbARN("nameless"))
				return []rdstypes.DBInstance{rdsDB("orders", ab, "sg-db"), nameless}
			}(),
			owners: map[string]eniOwner{"eni-1": {Kind: ownerRDS}},
			ips:    map[string][]string{"eni-1": {"urn:vpcip:vpc-1/10.0.1.5"}},
		},
		{
			name:   "DB instances denied: the interfaces keep their addresses",
			enis:   []ec2types.NetworkInterface{rdsENI("eni-1", "10.0.1.5", "subnet-a", "sg-db")},
			dbsErr: &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized"},
			owners: map[string]eniOwner{"eni-1": {Kind: ownerRDS}},
			ips:    map[string][]string{"eni-1": {"urn:vpcip:vpc-1/10.0.1.5"}},
		},
		{
			name:   "DB instances throttled: the interface listing is incomplete",
			enis:   []ec2types.NetworkInterface{rdsENI("eni-1", "10.0.1.5", "subnet-a", "sg-db")},
			dbsErr: &smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down"},
			owners: map[string]eniOwner{"eni-1": {Kind: ownerRDS}},
			ips:    map[string][]string{"eni-1": {"urn:vpcip:vpc-1/10.0.1.5"}},
			// The interfaces listing fails, and so keeps its previous components.
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// NAT gateways and VPC endpoints: none.
			tg := fakeTarget(t, queryServer{}.ServeHTTP)
			tg.shared = &shared{}
			tg.shared.enisOnce.Do(func() { tg.shared.enis = tt.enis })
			tg.shared.dbsOnce.Do(func() {
				tg.shared.dbs, tg.shared.dbsErr, tg.shared.owners = tt.dbs, tt.dbsErr, newRDSOwners(tg, tt.dbs)
			})
			enis, err := collectNetworkInterfaces(t.Context(), tg)
			if (err != nil) != tt.wantErr {
				t.Errorf("interfaces: err %v, want error %v", err, tt.wantErr)
			}
			owners := map[string]eniOwner{}
			for _, c := range enis.Components {
				owners[c.ID] = eniOwnerOf(t, c)
			}
			if d := cmp.Diff(tt.owners, owners); d != "" {
				t.Errorf("owners (-want +got):\n%s", d)
			}
			dbs, err := collectDBInstances(t.Context(), tg)
			if (err != nil) != (tt.dbsErr != nil) {
				t.Errorf("DB instances: err %v, want %v", err, tt.dbsErr)
			}
			got := vpcIPsOf(append(enis.Components, dbs.Components...))
			if d := cmp.Diff(tt.ips, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
				t.Errorf("urn:vpcip identifiers by component (-want +got):\n%s", d)
			}
		})
	}
}

func TestRDSPlaceIsASet(t *testing.T) {
	if a, b := rdsPlace("subnet-a", []string{"sg-2", "sg-1", "sg-2", ""}), rdsPlace("subnet-a", []string{"sg-1", "sg-2"}); a != b {
		t.Errorf("%q != %q", a, b)
	}
	if a, b := rdsPlace("subnet-a", []string{"sg-1"}), rdsPlace("subnet-b", []string{"sg-1"}); a == b {
		t.Errorf("two subnets give one place %q", a)
	}
}
