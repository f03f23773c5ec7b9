// Package flowlogs reads VPC and Transit Gateway flow-log records as AWS
// delivers them to S3: text, gzip-compressed or plain, in the default
// version 2 format or any custom format, described by the file's header
// line or by the flow log's LogFormat (Reader); or Parquet
// (ParquetReader). Parsing text allocates nothing per record: a Record is
// reused, and its text fields are slices of the line they came from.
//
// It also finds the objects: BucketSource lists a flow-log bucket day by
// day from a persisted checkpoint, QueueSource follows S3 notifications
// through SQS; both hand each object to a Handler and delete nothing
// before it was committed.
package flowlogs

// Field is one field AWS defines for flow-log records. The zero value,
// FieldUnknown, stands for a column whose name skymap does not know; such
// columns are kept as text (Record.Column) and are not an error.
type Field uint8

// The fields, in the order of AWS's tables: VPC flow logs versions 2 to 11,
// then the Transit Gateway fields. The comment names the version that
// introduced each group.
const (
	FieldUnknown Field = iota

	// version 2 (the default format, in this order)
	FieldVersion
	FieldAccountID
	FieldInterfaceID
	FieldSrcAddr
	FieldDstAddr
	FieldSrcPort
	FieldDstPort
	FieldProtocol
	FieldPackets
	FieldBytes
	FieldStart
	FieldEnd
	FieldAction
	FieldLogStatus

	// version 3
	FieldVPCID
	FieldSubnetID
	FieldInstanceID
	FieldTCPFlags
	FieldType
	FieldPktSrcAddr
	FieldPktDstAddr

	// version 4
	FieldRegion
	FieldAZID
	FieldSublocationType
	FieldSublocationID

	// version 5
	FieldPktSrcAWSService
	FieldPktDstAWSService
	FieldFlowDirection
	FieldTrafficPath

	// version 7
	FieldECSClusterARN
	FieldECSClusterName
	FieldECSContainerInstanceARN
	FieldECSContainerInstanceID
	FieldECSContainerID
	FieldECSSecondContainerID
	FieldECSServiceName
	FieldECSTaskDefinitionARN
	FieldECSTaskARN
	FieldECSTaskID

	// version 8
	FieldRejectReason
	// version 9
	FieldResourceID
	// version 10
	FieldEncryptionStatus

	// version 11
	FieldInstanceTag
	FieldInstanceTag2
	FieldInterfaceTag
	FieldInterfaceTag2
	FieldASGTag
	FieldASGTag2
	FieldInterfaceType
	FieldNextHopInterfaceID
	FieldNextHopSubnetID
	FieldNextHopAZID
	FieldNextHopVPCID
	FieldNextHopInterfaceType

	// Transit Gateway flow logs (version 6); they also use version,
	// account-id, srcaddr, dstaddr, srcport, dstport, protocol, packets,
	// bytes, start, end, log-status, type, tcp-flags, region,
	// flow-direction, pkt-src-aws-service and pkt-dst-aws-service.
	FieldResourceType
	FieldTGWID
	FieldTGWAttachmentID
	FieldTGWSrcVPCAccountID
	FieldTGWDstVPCAccountID
	FieldTGWSrcVPCID
	FieldTGWDstVPCID
	FieldTGWSrcSubnetID
	FieldTGWDstSubnetID
	FieldTGWSrcENI
	FieldTGWDstENI
	FieldTGWSrcAZID
	FieldTGWDstAZID
	FieldTGWPairAttachmentID
	FieldPacketsLostNoRoute
	FieldPacketsLostBlackhole
	FieldPacketsLostMTUExceeded
	FieldPacketsLostTTLExpired

	numFields
)

// kind says how a field's text becomes a typed value.
type kind uint8

const (
	kindText      kind = iota // kept as bytes of the line
	kindUint8                 // small integers: version, protocol, traffic-path, encryption-status
	kindUint16                // ports, tcp-flags
	kindUint64                // counters: packets, bytes, packets-lost-*
	kindTime                  // unix seconds
	kindAddr                  // IPv4 or IPv6 address
	kindAction                // ACCEPT, REJECT
	kindLogStatus             // OK, NODATA, SKIPDATA
	kindDirection             // ingress, egress
)

type fieldInfo struct {
	name    string
	kind    kind
	version uint8 // the flow-log version that introduced the field
}

// fieldTable describes every Field. Sources: AWS's "Flow log records"
// (Amazon VPC User Guide, available fields) and "Transit Gateway Flow Log
// records" tables. The version 11 fields (tags, interface type, next hop)
// are newer than the last copy of those tables we could read and come from
// AWS announcements as quoted by public flow-log formats; an unknown name
// in a header is kept as an unknown column anyway.
var fieldTable = [numFields]fieldInfo{
	FieldUnknown: {"", kindText, 0},

	FieldVersion:     {"version", kindUint8, 2},
	FieldAccountID:   {"account-id", kindText, 2},
	FieldInterfaceID: {"interface-id", kindText, 2},
	FieldSrcAddr:     {"srcaddr", kindAddr, 2},
	FieldDstAddr:     {"dstaddr", kindAddr, 2},
	FieldSrcPort:     {"srcport", kindUint16, 2},
	FieldDstPort:     {"dstport", kindUint16, 2},
	FieldProtocol:    {"protocol", kindUint8, 2},
	FieldPackets:     {"packets", kindUint64, 2},
	FieldBytes:       {"bytes", kindUint64, 2},
	FieldStart:       {"start", kindTime, 2},
	FieldEnd:         {"end", kindTime, 2},
	FieldAction:      {"action", kindAction, 2},
	FieldLogStatus:   {"log-status", kindLogStatus, 2},

	FieldVPCID:      {"vpc-id", kindText, 3},
	FieldSubnetID:   {"subnet-id", kindText, 3},
	FieldInstanceID: {"instance-id", kindText, 3},
	FieldTCPFlags:   {"tcp-flags", kindUint16, 3},
	FieldType:       {"type", kindText, 3},
	FieldPktSrcAddr: {"pkt-srcaddr", kindAddr, 3},
	FieldPktDstAddr: {"pkt-dstaddr", kindAddr, 3},

	FieldRegion:          {"region", kindText, 4},
	FieldAZID:            {"az-id", kindText, 4},
	FieldSublocationType: {"sublocation-type", kindText, 4},
	FieldSublocationID:   {"sublocation-id", kindText, 4},

	FieldPktSrcAWSService: {"pkt-src-aws-service", kindText, 5},
	FieldPktDstAWSService: {"pkt-dst-aws-service", kindText, 5},
	FieldFlowDirection:    {"flow-direction", kindDirection, 5},
	FieldTrafficPath:      {"traffic-path", kindUint8, 5},

	FieldECSClusterARN:           {"ecs-cluster-arn", kindText, 7},
	FieldECSClusterName:          {"ecs-cluster-name", kindText, 7},
	FieldECSContainerInstanceARN: {"ecs-container-instance-arn", kindText, 7},
	FieldECSContainerInstanceID:  {"ecs-container-instance-id", kindText, 7},
	FieldECSContainerID:          {"ecs-container-id", kindText, 7},
	FieldECSSecondContainerID:    {"ecs-second-container-id", kindText, 7},
	FieldECSServiceName:          {"ecs-service-name", kindText, 7},
	FieldECSTaskDefinitionARN:    {"ecs-task-definition-arn", kindText, 7},
	FieldECSTaskARN:              {"ecs-task-arn", kindText, 7},
	FieldECSTaskID:               {"ecs-task-id", kindText, 7},

	FieldRejectReason:     {"reject-reason", kindText, 8},
	FieldResourceID:       {"resource-id", kindText, 9},
	FieldEncryptionStatus: {"encryption-status", kindUint8, 10},

	FieldInstanceTag:          {"instance-tag", kindText, 11},
	FieldInstanceTag2:         {"instance-tag-2", kindText, 11},
	FieldInterfaceTag:         {"interface-tag", kindText, 11},
	FieldInterfaceTag2:        {"interface-tag-2", kindText, 11},
	FieldASGTag:               {"asg-tag", kindText, 11},
	FieldASGTag2:              {"asg-tag-2", kindText, 11},
	FieldInterfaceType:        {"interface-type", kindText, 11},
	FieldNextHopInterfaceID:   {"next-hop-interface-id", kindText, 11},
	FieldNextHopSubnetID:      {"next-hop-subnet-id", kindText, 11},
	FieldNextHopAZID:          {"next-hop-az-id", kindText, 11},
	FieldNextHopVPCID:         {"next-hop-vpc-id", kindText, 11},
	FieldNextHopInterfaceType: {"next-hop-interface-type", kindText, 11},

	FieldResourceType:           {"resource-type", kindText, 6},
	FieldTGWID:                  {"tgw-id", kindText, 6},
	FieldTGWAttachmentID:        {"tgw-attachment-id", kindText, 6},
	FieldTGWSrcVPCAccountID:     {"tgw-src-vpc-account-id", kindText, 6},
	FieldTGWDstVPCAccountID:     {"tgw-dst-vpc-account-id", kindText, 6},
	FieldTGWSrcVPCID:            {"tgw-src-vpc-id", kindText, 6},
	FieldTGWDstVPCID:            {"tgw-dst-vpc-id", kindText, 6},
	FieldTGWSrcSubnetID:         {"tgw-src-subnet-id", kindText, 6},
	FieldTGWDstSubnetID:         {"tgw-dst-subnet-id", kindText, 6},
	FieldTGWSrcENI:              {"tgw-src-eni", kindText, 6},
	FieldTGWDstENI:              {"tgw-dst-eni", kindText, 6},
	FieldTGWSrcAZID:             {"tgw-src-az-id", kindText, 6},
	FieldTGWDstAZID:             {"tgw-dst-az-id", kindText, 6},
	FieldTGWPairAttachmentID:    {"tgw-pair-attachment-id", kindText, 6},
	FieldPacketsLostNoRoute:     {"packets-lost-no-route", kindUint64, 6},
	FieldPacketsLostBlackhole:   {"packets-lost-blackhole", kindUint64, 6},
	FieldPacketsLostMTUExceeded: {"packets-lost-mtu-exceeded", kindUint64, 6},
	FieldPacketsLostTTLExpired:  {"packets-lost-ttl-expired", kindUint64, 6},
}

var fieldByName = func() map[string]Field {
	m := make(map[string]Field, numFields)
	for f := Field(1); f < numFields; f++ {
		m[fieldTable[f].name] = f
	}
	return m
}()

// LookupField returns the field AWS calls name ("srcaddr", "tgw-src-eni")
// or its Parquet column name, with '_' for '-' ("log_status").
func LookupField(name string) (Field, bool) {
	if f, ok := fieldByName[name]; ok {
		return f, true
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '_' {
			b := []byte(name)
			for j := range b {
				if b[j] == '_' {
					b[j] = '-'
				}
			}
			f, ok := fieldByName[string(b)]
			return f, ok
		}
	}
	return FieldUnknown, false
}

// Fields lists every known field in the order of AWS's tables.
func Fields() []Field {
	out := make([]Field, 0, numFields-1)
	for f := Field(1); f < numFields; f++ {
		out = append(out, f)
	}
	return out
}

// String returns the field's name as AWS writes it in headers and
// LogFormat strings ("pkt-srcaddr"); "" for FieldUnknown.
func (f Field) String() string {
	if f >= numFields {
		return ""
	}
	return fieldTable[f].name
}

// ParquetName returns the field's column name in Parquet flow logs and
// Athena tables: the name with '_' for '-' ("pkt_srcaddr").
func (f Field) ParquetName() string {
	b := []byte(f.String())
	for i := range b {
		if b[i] == '-' {
			b[i] = '_'
		}
	}
	return string(b)
}

// Version returns the flow-log version that introduced the field (6 for
// the Transit Gateway fields), 0 for FieldUnknown.
func (f Field) Version() int {
	if f >= numFields {
		return 0
	}
	return int(fieldTable[f].version)
}

// IsTransitGateway reports whether only Transit Gateway flow logs have f.
func (f Field) IsTransitGateway() bool {
	return f >= FieldResourceType && f < numFields
}
