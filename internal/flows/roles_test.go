package flows

import "testing"

func TestRoles(t *testing.T) {
	tests := []struct {
		name             string
		proto            uint8
		srcPort, dstPort uint16
		noPorts          bool
		flags            uint16
		srcIsClient      bool
		serverPort       uint16
	}{
		{name: "icmp", proto: 1, srcPort: 0, dstPort: 0, srcIsClient: true},
		{name: "icmp with type in the ports", proto: 1, srcPort: 0, dstPort: 2048, srcIsClient: true},
		{name: "icmpv6", proto: 58, srcIsClient: true},
		{name: "gre", proto: 47, srcIsClient: true},
		{name: "tcp without ports", proto: 6, noPorts: true, srcIsClient: true},
		{name: "syn opens: against the port rules", proto: 6, srcPort: 443, dstPort: 50000, flags: 2, srcIsClient: true, serverPort: 50000},
		{name: "syn-ack answers", proto: 6, srcPort: 50000, dstPort: 443, flags: 18, srcIsClient: false, serverPort: 50000},
		{name: "syn-ack with fin", proto: 6, srcPort: 5432, dstPort: 40000, flags: 19, srcIsClient: false, serverPort: 5432},
		{name: "fin only: ports decide", proto: 6, srcPort: 40000, dstPort: 5432, flags: 1, srcIsClient: true, serverPort: 5432},
		{name: "known service dst", proto: 6, srcPort: 40000, dstPort: 443, srcIsClient: true, serverPort: 443},
		{name: "known service src", proto: 6, srcPort: 443, dstPort: 40000, srcIsClient: false, serverPort: 443},
		{name: "known above 1024 against low port", proto: 6, srcPort: 1000, dstPort: 8080, srcIsClient: true, serverPort: 8080},
		{name: "kafka from a non-ephemeral port", proto: 6, srcPort: 9092, dstPort: 20000, srcIsClient: false, serverPort: 9092},
		{name: "udp dns answer", proto: 17, srcPort: 53, dstPort: 33333, srcIsClient: false, serverPort: 53},
		{name: "udp ntp both sides", proto: 17, srcPort: 123, dstPort: 123, srcIsClient: true, serverPort: 123},
		{name: "privileged unknown port", proto: 6, srcPort: 2000, dstPort: 999, srcIsClient: true, serverPort: 999},
		{name: "privileged unknown src", proto: 6, srcPort: 999, dstPort: 2000, srcIsClient: false, serverPort: 999},
		{name: "ephemeral client", proto: 6, srcPort: 45000, dstPort: 7777, srcIsClient: true, serverPort: 7777},
		{name: "ephemeral client answer", proto: 6, srcPort: 7777, dstPort: 45000, srcIsClient: false, serverPort: 7777},
		{name: "lower port serves", proto: 6, srcPort: 40001, dstPort: 40000, srcIsClient: true, serverPort: 40000},
		{name: "lower port serves (src)", proto: 17, srcPort: 4000, dstPort: 5001, srcIsClient: false, serverPort: 4000},
		{name: "equal ports", proto: 6, srcPort: 7000 + 1, dstPort: 7001, srcIsClient: true, serverPort: 7001},
		{name: "flags ignored for udp", proto: 17, srcPort: 53, dstPort: 40000, flags: 2, srcIsClient: false, serverPort: 53},
		{name: "sctp", proto: 132, srcPort: 40000, dstPort: 3868, srcIsClient: true, serverPort: 3868},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, p := Roles(tt.proto, tt.srcPort, tt.dstPort, !tt.noPorts, tt.flags)
			if c != tt.srcIsClient || p != tt.serverPort {
				t.Errorf("Roles(%d, %d, %d, %v, %d) = %v, %d; want %v, %d",
					tt.proto, tt.srcPort, tt.dstPort, !tt.noPorts, tt.flags, c, p, tt.srcIsClient, tt.serverPort)
			}
		})
	}
}

func TestPortName(t *testing.T) {
	for _, tt := range []struct {
		proto uint8
		port  uint16
		want  string
	}{
		{6, 443, "tcp/443"}, {17, 53, "udp/53"}, {1, 0, "icmp"}, {58, 0, "icmpv6"}, {47, 0, "47"}, {132, 3868, "sctp/3868"},
	} {
		if got := portName(tt.proto, tt.port); got != tt.want {
			t.Errorf("portName(%d, %d) = %q, want %q", tt.proto, tt.port, got, tt.want)
		}
	}
}
