package awstest

// DefaultImage is an Amazon Linux 2 AMI that moto knows in every region.
const DefaultImage = "ami-04681a1dbd79675a5"

// DefaultInstanceType is the instance type used when Instance.Type is empty.
const DefaultInstanceType = "t3.micro"

// Estate is a small AWS estate, declared as data and created in moto by
// Build. Names are the Name tags and the basis of placeholders, so every
// name must be unique within its kind across the whole estate. VPCs need
// distinct CIDRs so that instance IPs do not repeat.
type Estate struct {
	Accounts []Account
}

// Account is what one AWS account holds. An empty ID means DefaultAccount.
type Account struct {
	ID      string
	Regions []Region
	Buckets []Bucket
	// Global creates the account's global resources (Route 53, CloudFront,
	// IAM) after its regions and buckets, with a Seed in us-east-1.
	Global []Seeder
}

// Region is what one region of an account holds.
type Region struct {
	Name string
	VPCs []VPC
	// Services create the region's resources beyond the VPCs (load
	// balancers, databases, functions, queues...), in order, after the VPCs
	// are built and what moto made by itself is discovered.
	Services []Seeder
}

// VPC is a VPC with everything inside it. Its tags get Name added.
type VPC struct {
	Name string
	CIDR string
	Tags map[string]string
	// InternetGateway and VPNGateway name a gateway to create and attach;
	// empty means none.
	InternetGateway string
	VPNGateway      string
	SecurityGroups  []SecurityGroup
	Subnets         []Subnet
}

// Subnet is a subnet with its instances.
type Subnet struct {
	Name             string
	CIDR             string
	AvailabilityZone string
	// MapPublicIP gives instances launched here a public IP and DNS name.
	MapPublicIP bool
	Tags        map[string]string
	Instances   []Instance
}

// SecurityGroup is a security group of the VPC it is declared in.
type SecurityGroup struct {
	Name string
	// Description defaults to "skymap test group <Name>".
	Description string
	Tags        map[string]string
	Ingress     []Rule
}

// Rule is one ingress rule: from CIDR, or from SourceGroup, a security group
// of the same VPC named by its Name.
type Rule struct {
	Protocol         string // "tcp", "udp", "icmp" or "-1"
	FromPort, ToPort int32
	CIDR             string
	SourceGroup      string
}

// Instance is an EC2 instance in the subnet it is declared in.
type Instance struct {
	Name string
	// Type and Image default to DefaultInstanceType and DefaultImage.
	Type  string
	Image string
	// PrivateIP is the primary private IP; empty lets moto choose.
	PrivateIP string
	// SecurityGroups are names of groups of the VPC; none means its default group.
	SecurityGroups []string
	Tags           map[string]string
}

// Bucket is an S3 bucket of the account it is declared in.
type Bucket struct {
	Name   string
	Region string
	// Versioning enables versioning, as the log bucket of events needs.
	Versioning    bool
	Tags          map[string]string
	Notifications []Notification
}

// Notification is an S3 event notification. The kind of target (queue,
// topic or Lambda function) follows from TargetARN's service; the target
// need not exist, moto accepts the configuration without it.
type Notification struct {
	ID        string
	TargetARN string
	Events    []string
}

// Tag values that exercise escaping in HTML, JSON, SQL and shells.
const (
	TrickyHTML    = `<script>alert(1)</script>`
	TrickyUnicode = "Zürich – 東京 ✓ \"quoted\" & 'single'"
)

// SampleEstate is the estate of golden tests and `make demo`: account
// 123456789012 in eu-west-1 (VPCs prod and staging, prod with two subnets,
// an internet and a VPN gateway, three security groups and three instances)
// and us-east-1 (one VPC, subnet and instance), account 111111111111 in
// eu-west-1 (one VPC, subnet and instance), and three buckets.
func SampleEstate() Estate {
	env := func(env, id string, more ...string) map[string]string {
		tags := map[string]string{"stackstate-environment": env, "stackstate-identifier": id}
		for i := 0; i+1 < len(more); i += 2 {
			tags[more[i]] = more[i+1]
		}
		return tags
	}
	return Estate{Accounts: []Account{
		{
			ID: DefaultAccount,
			Regions: []Region{
				{Name: "eu-west-1", VPCs: []VPC{
					{
						Name: "prod", CIDR: "10.0.0.0/16", Tags: map[string]string{"team": "platform"},
						InternetGateway: "prod-igw", VPNGateway: "prod-vgw",
						SecurityGroups: []SecurityGroup{
							{Name: "web", Ingress: []Rule{{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDR: "0.0.0.0/0"}}},
							{Name: "app", Ingress: []Rule{{Protocol: "tcp", FromPort: 8080, ToPort: 8080, SourceGroup: "web"}}},
							{Name: "db", Tags: map[string]string{"note": TrickyHTML},
								Ingress: []Rule{{Protocol: "tcp", FromPort: 5432, ToPort: 5432, SourceGroup: "app"}}},
							// The Aurora cluster's own, so that orders-db's interface names orders-db alone.
							{Name: "aurora", Ingress: []Rule{{Protocol: "tcp", FromPort: 5432, ToPort: 5432, SourceGroup: "app"}}},
						},
						Subnets: []Subnet{
							{Name: "prod-public", CIDR: "10.0.1.0/24", AvailabilityZone: "eu-west-1a", MapPublicIP: true,
								Instances: []Instance{
									{Name: "web-1", SecurityGroups: []string{"web"}, PrivateIP: "10.0.1.10",
										Tags: env("production", "urn:host:/web-1.shop.example.com", "owner", TrickyUnicode)},
								}},
							{Name: "prod-private", CIDR: "10.0.2.0/24", AvailabilityZone: "eu-west-1b",
								Instances: []Instance{
									{Name: "app-1", SecurityGroups: []string{"app"}, PrivateIP: "10.0.2.10",
										Tags: env("production", "urn:host:/app-1.shop.example.com")},
									{Name: "db-1", Type: "m5.large", SecurityGroups: []string{"db"}, PrivateIP: "10.0.2.20",
										Tags: env("production", "urn:host:/db-1.shop.example.com", "description", TrickyHTML)},
								}},
						},
					},
					{Name: "staging", CIDR: "10.1.0.0/16", Tags: map[string]string{"team": "platform", "stage": "staging"}},
				}, Services: []Seeder{SeedVPCExtras, SeedLoadBalancers, Serverless, SeedDatabases, SeedDynamoDB, SeedMessaging, SeedECS, SeedEKS, SeedStacks, SeedFlowLogs}},
				{Name: "us-east-1", VPCs: []VPC{{
					Name: "edge", CIDR: "10.10.0.0/16",
					SecurityGroups: []SecurityGroup{
						{Name: "edge-web", Ingress: []Rule{{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDR: "0.0.0.0/0"}}},
					},
					Subnets: []Subnet{{Name: "edge-a", CIDR: "10.10.1.0/24", AvailabilityZone: "us-east-1a", MapPublicIP: true,
						Instances: []Instance{{Name: "edge-1", SecurityGroups: []string{"edge-web"},
							Tags: env("production", "urn:host:/edge-1.shop.example.com")}}}},
				}}, Services: []Seeder{QueueFanout("edge-jobs")}},
			},
			Buckets: []Bucket{
				{Name: "skymap-demo-logs", Region: "eu-west-1", Tags: map[string]string{"purpose": "logs"},
					Notifications: []Notification{{ID: "new-logs",
						TargetARN: "arn:aws:sqs:eu-west-1:123456789012:skymap-demo-log-events",
						Events:    []string{"s3:ObjectCreated:*"}}}},
				{Name: "skymap-demo-assets", Region: "us-east-1", Tags: map[string]string{"purpose": "assets", "city": "Zürich"}},
				// Where EventBridge events arrive through Firehose (the default name).
				{Name: "stackstate-logs-123456789012", Region: "eu-west-1", Versioning: true},
			},
			Global: []Seeder{IAMRoles, SeedCloudFront, SeedRoute53},
		},
		{
			ID: "111111111111",
			Regions: []Region{{Name: "eu-west-1", VPCs: []VPC{{
				Name: "partner", CIDR: "10.20.0.0/16",
				SecurityGroups: []SecurityGroup{
					{Name: "partner-app", Ingress: []Rule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "10.0.0.0/8"}}},
				},
				Subnets: []Subnet{{Name: "partner-a", CIDR: "10.20.1.0/24", AvailabilityZone: "eu-west-1a",
					Instances: []Instance{{Name: "partner-1", SecurityGroups: []string{"partner-app"},
						Tags: env("partner", "urn:host:/partner-1.partner.example.com")}}}},
			}}, Services: []Seeder{QueueFanout("partner-inbox")}}},
			Buckets: []Bucket{{Name: "skymap-demo-partner-data", Region: "eu-west-1", Tags: map[string]string{"purpose": "exchange"}},
				{Name: "stackstate-logs-111111111111", Region: "eu-west-1", Versioning: true}},
		},
	}}
}
