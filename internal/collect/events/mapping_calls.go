package events

// Component types, as in TOPOLOGY.md and internal/collect/inventory.
const (
	tInstance         = "aws.ec2.instance"
	tVPC              = "aws.ec2.vpc"
	tSubnet           = "aws.ec2.subnet"
	tSecurityGroup    = "aws.ec2.security-group"
	tVPNGateway       = "aws.ec2.vpn-gateway"
	tInternetGateway  = "aws.ec2.internet-gateway"
	tNATGateway       = "aws.ec2.nat-gateway"
	tTransitGateway   = "aws.ec2.transit-gateway"
	tRouteTable       = "aws.ec2.route-table"
	tNetworkInterface = "aws.ec2.network-interface"
	tVPCEndpoint      = "aws.ec2.vpc-endpoint"
	tVolume           = "aws.ec2.volume"
	tClassicLB        = "aws.elb-classic.load-balancer"
	tALB              = "aws.elb-v2.application-load-balancer"
	tNLB              = "aws.elb-v2.network-load-balancer"
	tGWLB             = "aws.elb-v2.gateway-load-balancer"
	tTargetGroup      = "aws.elb-v2.target-group"
	tASG              = "aws.autoscaling.group"
	tECSCluster       = "aws.ecs.cluster"
	tECSService       = "aws.ecs.service"
	tECSTask          = "aws.ecs.task"
	tEKSCluster       = "aws.eks.cluster"
	tEKSNodegroup     = "aws.eks.nodegroup"
	tFunction         = "aws.lambda.function"
	tAlias            = "aws.lambda.alias"
	tStateMachine     = "aws.stepfunction.statemachine"
	tActivity         = "aws.stepfunction.activity"
	tRestAPI          = "aws.apigateway.rest-api"
	tRestStage        = "aws.apigateway.stage"
	tAPIv2            = "aws.apigatewayv2.api"
	tAPIv2Stage       = "aws.apigatewayv2.stage"
	tBucket           = "aws.s3.bucket"
	tRDSInstance      = "aws.rds.instance"
	tRDSCluster       = "aws.rds.cluster"
	tRedshift         = "aws.redshift.cluster"
	tCache            = "aws.elasticache.cluster"
	tTable            = "aws.dynamodb.table"
	tTableStream      = "aws.dynamodb.streams"
	tQueue            = "aws.sqs.queue"
	tTopic            = "aws.sns.topic"
	tStream           = "aws.kinesis.data-stream"
	tFirehose         = "aws.firehose.delivery-stream"
	tRule             = "aws.events.rule"
	tHostedZone       = "aws.route53.hostedzone"
	tDomain           = "aws.route53.domain"
	tDistribution     = "aws.cloudfront.distribution"
	tStack            = "aws.cloudformation.stack"
	tRole             = "aws.iam.role"
)

// apiCalls maps CloudTrail records, by event source and event name
// (without API version), to what they change. Creations and updates
// refresh, deletions delete. Sub-resources listed with their parent
// (states with their state machine, stages with their API, node groups
// with their cluster, streams with their table) are refreshed by
// refreshing the parent, and deleted with it.
var apiCalls = map[string]map[string][]rule{
	"ec2.amazonaws.com": {
		// Volumes RunInstances creates are not in the record (its block
		// device mapping is empty until attached): the next scan finds them.
		"RunInstances": {refresh(tInstance, res("instancesSet.items.instanceId")),
			refresh(tNetworkInterface, res("instancesSet.items.networkInterfaceSet.items.networkInterfaceId"))},
		"StartInstances":          {refresh(tInstance, req("instancesSet.items.instanceId"))},
		"StopInstances":           {refresh(tInstance, req("instancesSet.items.instanceId"))},
		"RebootInstances":         {refresh(tInstance, req("instancesSet.items.instanceId"))},
		"TerminateInstances":      {remove(tInstance, req("instancesSet.items.instanceId"))},
		"ModifyInstanceAttribute": {refresh(tInstance, req("instanceId"))},
		"AttachVolume":            {refresh(tInstance, req("instanceId")), refresh(tVolume, req("volumeId"))},
		"DetachVolume":            {refresh(tInstance, first(req("instanceId"), res("instanceId"))), refresh(tVolume, req("volumeId"))},
		"CreateVolume":            {refresh(tVolume, res("volumeId"))},
		"DeleteVolume":            {remove(tVolume, req("volumeId"))},
		"CreateSecurityGroup":     {refresh(tSecurityGroup, res("groupId"))},
		"DeleteSecurityGroup":     {remove(tSecurityGroup, req("groupId"))},
		// A group named only by groupName (default VPC) is found in the
		// response's rules, when it has them.
		"AuthorizeSecurityGroupIngress": {refresh(tSecurityGroup, first(req("groupId"), res("securityGroupRuleSet.items.groupId")))},
		"AuthorizeSecurityGroupEgress":  {refresh(tSecurityGroup, first(req("groupId"), res("securityGroupRuleSet.items.groupId")))},
		"RevokeSecurityGroupIngress":    {refresh(tSecurityGroup, req("groupId"))},
		"RevokeSecurityGroupEgress":     {refresh(tSecurityGroup, req("groupId"))},
		"ModifySecurityGroupRules":      {refresh(tSecurityGroup, req("groupId", "GroupId"))},
		"CreateVpc":                     {refresh(tVPC, res("vpc.vpcId"))},
		"DeleteVpc":                     {remove(tVPC, req("vpcId"))},
		"ModifyVpcAttribute":            {refresh(tVPC, req("vpcId"))},
		"CreateSubnet":                  {refresh(tSubnet, res("subnet.subnetId"))},
		"DeleteSubnet":                  {remove(tSubnet, req("subnetId"))},
		"ModifySubnetAttribute":         {refresh(tSubnet, req("subnetId"))},
		"CreateRouteTable":              {refresh(tRouteTable, res("routeTable.routeTableId"))},
		"DeleteRouteTable":              {remove(tRouteTable, req("routeTableId"))},
		"CreateRoute":                   {refresh(tRouteTable, req("routeTableId"))},
		"ReplaceRoute":                  {refresh(tRouteTable, req("routeTableId"))},
		"DeleteRoute":                   {refresh(tRouteTable, req("routeTableId"))},
		"AssociateRouteTable":           {refresh(tRouteTable, req("routeTableId"))},
		// The table an association is replaced from is not in the record
		// (nor is the table of DisassociateRouteTable, which is not mapped).
		"ReplaceRouteTableAssociation": {refresh(tRouteTable, req("routeTableId"))},
		"CreateInternetGateway":        {refresh(tInternetGateway, res("internetGateway.internetGatewayId"))},
		"DeleteInternetGateway":        {remove(tInternetGateway, req("internetGatewayId"))},
		"AttachInternetGateway":        {refresh(tInternetGateway, req("internetGatewayId"))},
		"DetachInternetGateway":        {refresh(tInternetGateway, req("internetGatewayId"))},
		"CreateNatGateway":             {refresh(tNATGateway, res("natGateway.natGatewayId"))},
		"DeleteNatGateway":             {remove(tNATGateway, first(req("natGatewayId"), res("natGatewayId")))},
		"CreateVpnGateway":             {refresh(tVPNGateway, res("vpnGateway.vpnGatewayId"))},
		"DeleteVpnGateway":             {remove(tVPNGateway, req("vpnGatewayId"))},
		"AttachVpnGateway":             {refresh(tVPNGateway, req("vpnGatewayId"))},
		"DetachVpnGateway":             {refresh(tVPNGateway, req("vpnGatewayId"))},
		"CreateTransitGateway":         {refresh(tTransitGateway, res("transitGateway.transitGatewayId"))},
		"DeleteTransitGateway":         {remove(tTransitGateway, first(req("transitGatewayId"), res("transitGateway.transitGatewayId")))},
		// Attachments are relations of the transit gateway.
		"CreateTransitGatewayVpcAttachment": {refresh(tTransitGateway, first(req("transitGatewayId"), res("transitGatewayVpcAttachment.transitGatewayId")))},
		"DeleteTransitGatewayVpcAttachment": {refresh(tTransitGateway, res("transitGatewayVpcAttachment.transitGatewayId"))},
		"CreateVpcEndpoint":                 {refresh(tVPCEndpoint, res("vpcEndpoint.vpcEndpointId"))},
		"ModifyVpcEndpoint":                 {refresh(tVPCEndpoint, req("vpcEndpointId"))},
		"DeleteVpcEndpoints":                {remove(tVPCEndpoint, req("vpcEndpointId"))},
		"CreateNetworkInterface":            {refresh(tNetworkInterface, res("networkInterface.networkInterfaceId"))},
		"DeleteNetworkInterface":            {remove(tNetworkInterface, req("networkInterfaceId"))},
		// DetachNetworkInterface names only the attachment: not mapped.
		"AttachNetworkInterface": {refresh(tNetworkInterface, req("networkInterfaceId")), refresh(tInstance, req("instanceId"))},
		// Tags: resourcesSet names EC2 ids of any type; the id's prefix
		// gives the type.
		"CreateTags": {ec2Tagged},
		"DeleteTags": {ec2Tagged},
	},
	"elasticloadbalancing.amazonaws.com": {
		// Classic load balancers are named by loadBalancerName, version 2
		// ones by ARN: each rule finds only its own.
		"CreateLoadBalancer":                  {refresh(tClassicLB, classicLB), refresh("", arns(res("loadBalancers.loadBalancerArn")))},
		"DeleteLoadBalancer":                  {remove(tClassicLB, classicLB), remove("", arns(req("loadBalancerArn")))},
		"RegisterInstancesWithLoadBalancer":   {refresh(tClassicLB, classicLB)},
		"DeregisterInstancesFromLoadBalancer": {refresh(tClassicLB, classicLB)},
		"ApplySecurityGroupsToLoadBalancer":   {refresh(tClassicLB, classicLB)},
		"AttachLoadBalancerToSubnets":         {refresh(tClassicLB, classicLB)},
		"DetachLoadBalancerFromSubnets":       {refresh(tClassicLB, classicLB)},
		"AddTags":                             {refresh(tClassicLB, classicLB), refresh("", arns(req("resourceArns")))},
		"RemoveTags":                          {refresh(tClassicLB, classicLB), refresh("", arns(req("resourceArns")))},
		"SetSecurityGroups":                   {refresh("", arns(req("loadBalancerArn")))},
		"SetSubnets":                          {refresh("", arns(req("loadBalancerArn")))},
		// Listeners and their rules forward to target groups: relations
		// of the load balancer.
		"CreateListener":    {refresh("", loadBalancerOf(req("loadBalancerArn")))},
		"ModifyListener":    {refresh("", loadBalancerOf(req("listenerArn")))},
		"DeleteListener":    {refresh("", loadBalancerOf(req("listenerArn")))},
		"CreateRule":        {refresh("", loadBalancerOf(req("listenerArn")))},
		"ModifyRule":        {refresh("", loadBalancerOf(req("ruleArn")))},
		"DeleteRule":        {refresh("", loadBalancerOf(req("ruleArn")))},
		"CreateTargetGroup": {refresh(tTargetGroup, arns(res("targetGroups.targetGroupArn")))},
		"ModifyTargetGroup": {refresh(tTargetGroup, arns(req("targetGroupArn")))},
		"DeleteTargetGroup": {remove(tTargetGroup, arns(req("targetGroupArn")))},
		"RegisterTargets":   {refresh(tTargetGroup, arns(req("targetGroupArn")))},
		"DeregisterTargets": {refresh(tTargetGroup, arns(req("targetGroupArn")))},
	},
	"autoscaling.amazonaws.com": {
		// The group's ARN carries a generated id: groups are named by name,
		// which the inventory keeps as an identifier.
		"CreateAutoScalingGroup":              {refresh(tASG, asg)},
		"UpdateAutoScalingGroup":              {refresh(tASG, asg)},
		"DeleteAutoScalingGroup":              {remove(tASG, asg)},
		"SetDesiredCapacity":                  {refresh(tASG, asg)},
		"AttachInstances":                     {refresh(tASG, asg)},
		"DetachInstances":                     {refresh(tASG, asg)},
		"AttachLoadBalancers":                 {refresh(tASG, asg)},
		"DetachLoadBalancers":                 {refresh(tASG, asg)},
		"AttachLoadBalancerTargetGroups":      {refresh(tASG, asg)},
		"DetachLoadBalancerTargetGroups":      {refresh(tASG, asg)},
		"AttachTrafficSources":                {refresh(tASG, asg)},
		"DetachTrafficSources":                {refresh(tASG, asg)},
		"CreateOrUpdateTags":                  {refresh(tASG, req("tags.resourceId"))},
		"DeleteTags":                          {refresh(tASG, req("tags.resourceId"))},
		"TerminateInstanceInAutoScalingGroup": {remove(tInstance, req("instanceId"))},
	},
	"ecs.amazonaws.com": {
		"CreateCluster": {refresh(tECSCluster, ecsCluster)},
		"UpdateCluster": {refresh(tECSCluster, ecsCluster)},
		"DeleteCluster": {remove(tECSCluster, ecsCluster)},
		"CreateService": {refresh(tECSService, arns(res("service.serviceArn")))},
		"UpdateService": {refresh(tECSService, first(arns(res("service.serviceArn")), ecsService))},
		// Deleting a service drains its tasks, which the next scan drops.
		"DeleteService": {remove(tECSService, first(arns(res("service.serviceArn")), ecsService))},
		"RunTask":       {refresh(tECSTask, arns(res("tasks.taskArn")))},
		"StartTask":     {refresh(tECSTask, arns(res("tasks.taskArn")))},
		"StopTask":      {remove(tECSTask, arns(first(res("task.taskArn"), req("task"))))},
		"TagResource":   {refresh("", tagged)},
		"UntagResource": {refresh("", tagged)},
	},
	"eks.amazonaws.com": {
		"CreateCluster":        {refresh(tEKSCluster, eksCluster)},
		"UpdateClusterConfig":  {refresh(tEKSCluster, eksCluster)},
		"UpdateClusterVersion": {refresh(tEKSCluster, eksCluster)},
		"DeleteCluster":        {remove(tEKSCluster, eksCluster)},
		// A node group's ARN carries a generated id: when the response
		// does not name it, its cluster is refreshed (node groups are
		// listed with it).
		"CreateNodegroup":        {nodegroup(Refresh)},
		"UpdateNodegroupConfig":  {nodegroup(Refresh)},
		"UpdateNodegroupVersion": {nodegroup(Refresh)},
		"DeleteNodegroup":        {remove(tEKSNodegroup, arns(res("nodegroup.nodegroupArn")))},
		"TagResource":            {refresh("", tagged)},
		"UntagResource":          {refresh("", tagged)},
	},
	"lambda.amazonaws.com": {
		"CreateFunction":              {refresh(tFunction, function)},
		"UpdateFunctionConfiguration": {refresh(tFunction, function)},
		"UpdateFunctionCode":          {refresh(tFunction, function)},
		"PublishVersion":              {refresh(tFunction, function)},
		// DeleteFunction with a Qualifier deletes one version only; the
		// function is deleted all the same and comes back at the next scan.
		"DeleteFunction": {remove(tFunction, arn("arn:{partition}:lambda:{region}:{account}:function:{name}", req("functionName")))},
		// Permissions are data of the function (who may invoke it).
		"AddPermission":    {refresh(tFunction, arn("arn:{partition}:lambda:{region}:{account}:function:{name}", req("functionName")))},
		"RemovePermission": {refresh(tFunction, arn("arn:{partition}:lambda:{region}:{account}:function:{name}", req("functionName")))},
		// Event source mappings are relations of the function.
		"CreateEventSourceMapping": {refresh(tFunction, function)},
		"UpdateEventSourceMapping": {refresh(tFunction, function)},
		"DeleteEventSourceMapping": {refresh(tFunction, function)},
		"CreateAlias":              {refresh(tAlias, first(arns(res("aliasArn")), lambdaAlias))},
		"UpdateAlias":              {refresh(tAlias, first(arns(res("aliasArn")), lambdaAlias))},
		"DeleteAlias":              {remove(tAlias, lambdaAlias)},
		"TagResource":              {refresh("", tagged)},
		"UntagResource":            {refresh("", tagged)},
	},
	"states.amazonaws.com": {
		// States are listed with their state machine.
		"CreateStateMachine": {refresh(tStateMachine, arns(res("stateMachineArn")))},
		"UpdateStateMachine": {refresh(tStateMachine, arns(req("stateMachineArn")))},
		"DeleteStateMachine": {remove(tStateMachine, arns(req("stateMachineArn")))},
		"CreateActivity":     {refresh(tActivity, arns(res("activityArn")))},
		"DeleteActivity":     {remove(tActivity, arns(req("activityArn")))},
		"TagResource":        {refresh("", tagged)},
		"UntagResource":      {refresh("", tagged)},
	},
	"s3.amazonaws.com": {
		"CreateBucket":          {refresh(tBucket, bucket)},
		"DeleteBucket":          {remove(tBucket, bucket)},
		"PutBucketNotification": {refresh(tBucket, bucket)},
		"PutBucketTagging":      {refresh(tBucket, bucket)},
		"DeleteBucketTagging":   {refresh(tBucket, bucket)},
	},
	"sqs.amazonaws.com": {
		"CreateQueue":        {refresh(tQueue, first(queueARN(res("queueUrl")), arn("arn:{partition}:sqs:{region}:{account}:{name}", req("queueName"))))},
		"DeleteQueue":        {remove(tQueue, queue)},
		"SetQueueAttributes": {refresh(tQueue, queue)},
		"TagQueue":           {refresh(tQueue, queue)},
		"UntagQueue":         {refresh(tQueue, queue)},
		// The queue's attributes (message counts) are component data.
		"PurgeQueue": {refresh(tQueue, queue)},
	},
	"sns.amazonaws.com": {
		"CreateTopic":        {refresh(tTopic, first(arns(res("topicArn")), arn("arn:{partition}:sns:{region}:{account}:{name}", req("name"))))},
		"DeleteTopic":        {remove(tTopic, arns(req("topicArn")))},
		"SetTopicAttributes": {refresh(tTopic, arns(req("topicArn")))},
		// Subscriptions are relations of the topic.
		"Subscribe":     {refresh(tTopic, arns(req("topicArn")))},
		"Unsubscribe":   {refresh(tTopic, topicOf(req("subscriptionArn")))},
		"TagResource":   {refresh("", tagged)},
		"UntagResource": {refresh("", tagged)},
	},
	"dynamodb.amazonaws.com": {
		// A table's stream is listed with it.
		"CreateTable":   {refresh(tTable, table)},
		"UpdateTable":   {refresh(tTable, table)},
		"DeleteTable":   {remove(tTable, table)},
		"TagResource":   {refresh("", tagged)},
		"UntagResource": {refresh("", tagged)},
	},
	"kinesis.amazonaws.com": {
		"CreateStream":                  {refresh(tStream, stream)},
		"DeleteStream":                  {remove(tStream, stream)},
		"AddTagsToStream":               {refresh(tStream, stream)},
		"RemoveTagsFromStream":          {refresh(tStream, stream)},
		"IncreaseStreamRetentionPeriod": {refresh(tStream, stream)},
		"DecreaseStreamRetentionPeriod": {refresh(tStream, stream)},
		"EnableEnhancedMonitoring":      {refresh(tStream, stream)},
		"DisableEnhancedMonitoring":     {refresh(tStream, stream)},
		"StartStreamEncryption":         {refresh(tStream, stream)},
		"StopStreamEncryption":          {refresh(tStream, stream)},
		"UpdateShardCount":              {refresh(tStream, stream)},
		"UpdateStreamMode":              {refresh(tStream, stream)},
		"MergeShards":                   {refresh(tStream, stream)},
		"SplitShard":                    {refresh(tStream, stream)},
	},
	"firehose.amazonaws.com": {
		"CreateDeliveryStream":          {refresh(tFirehose, firehose)},
		"DeleteDeliveryStream":          {remove(tFirehose, firehose)},
		"UpdateDestination":             {refresh(tFirehose, firehose)},
		"TagDeliveryStream":             {refresh(tFirehose, firehose)},
		"UntagDeliveryStream":           {refresh(tFirehose, firehose)},
		"StartDeliveryStreamEncryption": {refresh(tFirehose, firehose)},
		"StopDeliveryStreamEncryption":  {refresh(tFirehose, firehose)},
	},
	"rds.amazonaws.com": {
		// A member instance is a relation of its cluster.
		"CreateDBInstance":       {refresh(tRDSInstance, rdsInstance), refresh(tRDSCluster, rdsCluster)},
		"ModifyDBInstance":       {refresh(tRDSInstance, rdsInstance)},
		"RebootDBInstance":       {refresh(tRDSInstance, rdsInstance)},
		"StartDBInstance":        {refresh(tRDSInstance, rdsInstance)},
		"StopDBInstance":         {refresh(tRDSInstance, rdsInstance)},
		"DeleteDBInstance":       {remove(tRDSInstance, rdsInstance)},
		"CreateDBCluster":        {refresh(tRDSCluster, rdsCluster)},
		"ModifyDBCluster":        {refresh(tRDSCluster, rdsCluster)},
		"StartDBCluster":         {refresh(tRDSCluster, rdsCluster)},
		"StopDBCluster":          {refresh(tRDSCluster, rdsCluster)},
		"DeleteDBCluster":        {remove(tRDSCluster, rdsCluster)},
		"AddTagsToResource":      {refresh("", tagged)},
		"RemoveTagsFromResource": {refresh("", tagged)},
	},
	"redshift.amazonaws.com": {
		"CreateCluster": {refresh(tRedshift, redshift)},
		"ModifyCluster": {refresh(tRedshift, redshift)},
		"RebootCluster": {refresh(tRedshift, redshift)},
		"ResizeCluster": {refresh(tRedshift, redshift)},
		"PauseCluster":  {refresh(tRedshift, redshift)},
		"ResumeCluster": {refresh(tRedshift, redshift)},
		"DeleteCluster": {remove(tRedshift, redshift)},
		"CreateTags":    {refresh("", tagged)},
		"DeleteTags":    {refresh("", tagged)},
	},
	"elasticache.amazonaws.com": {
		// CreateReplicationGroup's member clusters are named by ElastiCache
		// ("<group>-001", ...) and not in the record: the next scan finds them.
		"CreateCacheCluster":     {refresh(tCache, cache)},
		"ModifyCacheCluster":     {refresh(tCache, cache)},
		"RebootCacheCluster":     {refresh(tCache, cache)},
		"DeleteCacheCluster":     {remove(tCache, cache)},
		"AddTagsToResource":      {refresh("", tagged)},
		"RemoveTagsFromResource": {refresh("", tagged)},
	},
	"cloudformation.amazonaws.com": {
		// DeleteStack names the stack by name or id. The inventory's id is
		// the stack id; a name is passed on as it is (the resources the
		// stack deletes have their own events).
		"CreateStack": {refresh(tStack, stack)},
		"UpdateStack": {refresh(tStack, stack)},
		"DeleteStack": {remove(tStack, stack)},
	},
	"apigateway.amazonaws.com": {
		// Version 1 calls name the API by restApiId, version 2 ones by
		// apiId; both share this event source and some event names.
		// Stages, resources, methods, routes and integrations are listed
		// with their API: changing one refreshes the API; deleting the API
		// deletes only it (its sub-components go with the next scan).
		"CreateRestApi":     {refresh(tRestAPI, restAPI)},
		"ImportRestApi":     {refresh(tRestAPI, restAPI)},
		"PutRestApi":        {refresh(tRestAPI, restAPI)},
		"UpdateRestApi":     {refresh(tRestAPI, restAPI)},
		"DeleteRestApi":     {remove(tRestAPI, restAPI)},
		"CreateResource":    {refresh(tRestAPI, restAPIOf)},
		"UpdateResource":    {refresh(tRestAPI, restAPIOf)},
		"DeleteResource":    {refresh(tRestAPI, restAPIOf)},
		"PutMethod":         {refresh(tRestAPI, restAPIOf)},
		"UpdateMethod":      {refresh(tRestAPI, restAPIOf)},
		"DeleteMethod":      {refresh(tRestAPI, restAPIOf)},
		"PutIntegration":    {refresh(tRestAPI, restAPIOf)},
		"UpdateIntegration": {refresh(tRestAPI, restAPIOf), refresh(tAPIv2, apiV2Of)},
		"DeleteIntegration": {refresh(tRestAPI, restAPIOf), refresh(tAPIv2, apiV2Of)},
		"CreateDeployment":  {refresh(tRestAPI, restAPIOf), refresh(tAPIv2, apiV2Of)},
		"CreateStage":       {refresh(tRestAPI, restAPIOf), refresh(tAPIv2, apiV2Of)},
		"UpdateStage":       {refresh(tRestAPI, restAPIOf), refresh(tAPIv2, apiV2Of)},
		"DeleteStage":       {remove(tRestStage, stageOf("restapis", "restApiId")), remove(tAPIv2Stage, stageOf("apis", "apiId"))},
		"CreateApi":         {refresh(tAPIv2, apiV2)},
		"ImportApi":         {refresh(tAPIv2, apiV2)},
		"ReimportApi":       {refresh(tAPIv2, apiV2)},
		"UpdateApi":         {refresh(tAPIv2, apiV2)},
		"DeleteApi":         {remove(tAPIv2, apiV2)},
		"CreateRoute":       {refresh(tAPIv2, apiV2Of)},
		"UpdateRoute":       {refresh(tAPIv2, apiV2Of)},
		"DeleteRoute":       {refresh(tAPIv2, apiV2Of)},
		"CreateIntegration": {refresh(tAPIv2, apiV2Of)},
	},
	"route53.amazonaws.com": {
		// Records are data and relations of their zone.
		"CreateHostedZone":         {refresh(tHostedZone, hostedZone)},
		"DeleteHostedZone":         {remove(tHostedZone, hostedZone)},
		"ChangeResourceRecordSets": {refresh(tHostedZone, hostedZone)},
		"UpdateHostedZoneComment":  {refresh(tHostedZone, hostedZone)},
		"ChangeTagsForResource":    {refresh(tHostedZone, trim("/hostedzone/", zoneTagged))},
	},
	"route53domains.amazonaws.com": {
		"RegisterDomain": {refresh(tDomain, req("domainName"))},
		"TransferDomain": {refresh(tDomain, req("domainName"))},
		"DeleteDomain":   {remove(tDomain, req("domainName"))},
	},
	"cloudfront.amazonaws.com": {
		"CreateDistribution":         {refresh(tDistribution, distribution)},
		"CreateDistributionWithTags": {refresh(tDistribution, distribution)},
		"UpdateDistribution":         {refresh(tDistribution, distribution)},
		"DeleteDistribution":         {remove(tDistribution, distribution)},
		"TagResource":                {refresh("", tagged)},
		"UntagResource":              {refresh("", tagged)},
	},
	"events.amazonaws.com": {
		"PutRule":       {refresh(tRule, first(arns(res("ruleArn")), eventRule("name")))},
		"EnableRule":    {refresh(tRule, eventRule("name"))},
		"DisableRule":   {refresh(tRule, eventRule("name"))},
		"DeleteRule":    {remove(tRule, eventRule("name"))},
		"PutTargets":    {refresh(tRule, eventRule("rule"))},
		"RemoveTargets": {refresh(tRule, eventRule("rule"))},
		"TagResource":   {refresh("", tagged)},
		"UntagResource": {refresh("", tagged)},
	},
	"iam.amazonaws.com": {
		"CreateRole":             {refresh(tRole, role)},
		"UpdateRole":             {refresh(tRole, role)},
		"UpdateRoleDescription":  {refresh(tRole, role)},
		"UpdateAssumeRolePolicy": {refresh(tRole, role)},
		"TagRole":                {refresh(tRole, role)},
		"UntagRole":              {refresh(tRole, role)},
		"DeleteRole":             {remove(tRole, role)},
	},
}
