package flows

// TCP flags as flow logs report them: the OR of the flags seen in the
// capture window; a SYN-ACK packet is reported as 18, a lone ACK not at
// all.
const (
	flagSYN    = 2
	flagSYNACK = 18
)

// IANA protocol numbers skymap names.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
	protoSCTP   = 132
)

// servicePorts are ports that name a service: the side using one talks to
// clients on it. A port missing here still wins against an ephemeral one
// by the rules of Roles.
var servicePorts = func() (t [1 << 16]bool) {
	for _, p := range []uint16{
		21, 22, 23, 25, 53, 80, 88, 110, 111, 123, 135, 139, 143, 161, 179,
		389, 443, 445, 465, 514, 587, 636, 873, 993, 995,
		1433, 1521, 1883, 2049, 2181, 2375, 2376, 2379, 2380, 3000, 3268, 3306, 3389,
		4222, 4317, 4318, 5000, 5044, 5060, 5432, 5439, 5601, 5671, 5672, 5984,
		6379, 6443, 7000, 7001, 7199, 8000, 8008, 8080, 8081, 8088, 8086, 8443, 8500, 8883, 8888,
		9000, 9042, 9090, 9092, 9093, 9094, 9100, 9200, 9300, 9418, 9443,
		10250, 11211, 15672, 27017, 50051,
	} {
		t[p] = true
	}
	return t
}()

// ephemeralStart is where the ephemeral ports of Linux (32768-60999), and
// of most other systems (49152-65535), begin.
const ephemeralStart = 32768

// Roles decides which side of a flow is the client: it reports whether
// the source is, and returns the server's port. hasPorts says whether the
// record has both ports; tcpFlags is the record's tcp-flags (0 when the
// format has none). In order:
//
//  1. a protocol without ports (ICMP, GRE...) or a record without ports:
//     the source is the client, the server port 0;
//  2. TCP with SYN and without SYN-ACK: the source opens the connection
//     and is the client; with SYN-ACK the source is the server;
//  3. the side whose port is a known service's (servicePorts) while the
//     other's is not, then the side whose port is below 1024 while the
//     other's is not, is the server;
//  4. the side whose port is ephemeral (32768 and above) while the
//     other's is not is the client;
//  5. the lower port is the server's; with equal ports the source is the
//     client.
//
// Flow direction does not say who opened a connection (an ingress record
// is an answer as often as a request), so it is not used here; see
// Processor for where it is.
func Roles(protocol uint8, srcPort, dstPort uint16, hasPorts bool, tcpFlags uint16) (srcIsClient bool, serverPort uint16) {
	switch protocol {
	case protoTCP, protoUDP, protoSCTP:
	default:
		return true, 0
	}
	if !hasPorts {
		return true, 0
	}
	if protocol == protoTCP {
		switch {
		case tcpFlags&flagSYNACK == flagSYNACK:
			return false, srcPort
		case tcpFlags&flagSYN != 0:
			return true, dstPort
		}
	}
	if s, d := servicePorts[srcPort], servicePorts[dstPort]; s != d {
		return d, pick(d, srcPort, dstPort)
	}
	if s, d := srcPort < 1024, dstPort < 1024; s != d {
		return d, pick(d, srcPort, dstPort)
	}
	if s, d := srcPort >= ephemeralStart, dstPort >= ephemeralStart; s != d {
		return s, pick(s, srcPort, dstPort)
	}
	if srcPort < dstPort {
		return false, srcPort
	}
	return true, dstPort
}

// pick returns the server's port: dst's when the source is the client.
func pick(srcIsClient bool, srcPort, dstPort uint16) uint16 {
	if srcIsClient {
		return dstPort
	}
	return srcPort
}

// protocolName is how relations and ports name a protocol: tcp, udp,
// icmp, icmpv6, sctp, or the number.
func protocolName(p uint8) (string, bool) {
	switch p {
	case protoTCP:
		return "tcp", true
	case protoUDP:
		return "udp", true
	case protoICMP:
		return "icmp", true
	case protoICMPv6:
		return "icmpv6", true
	case protoSCTP:
		return "sctp", true
	}
	return "", false
}

// hasPorts reports whether protocol p has ports.
func hasPorts(p uint8) bool { return p == protoTCP || p == protoUDP || p == protoSCTP }
