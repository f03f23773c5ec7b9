// Package flowlogstest generates realistic VPC flow-log text for tests and
// benchmarks: deterministic for a seed, in AWS's default version 2 format.
package flowlogstest

import (
	"bufio"
	"io"
	"math/rand/v2"
	"strconv"
)

// Header is the header line of the default format, as S3 objects have it.
const Header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

// Estate is a set of network interfaces and the connections between
// them and public addresses that records are drawn from.
type Estate struct {
	enis     []eni
	accounts []string
	flows    []flow
}

type eni struct {
	id      string
	account int
	ip      [4]byte
	port    uint16 // the port it serves on, 0 for none
}

// flow is one connection: client to server. A side that is an interface
// of the estate has its index, -1 for a public address.
type flow struct {
	client, server       [4]byte
	clientENI, serverENI int
	clientPort           uint16
	serverPort           uint16
	proto                uint8
	reject               bool
}

// Interface is one network interface of an Estate.
type Interface struct {
	ID      string // eni-...
	Account string
	Addr    string // its private IPv4 address
}

// Interfaces returns the estate's network interfaces, so that tests can
// describe them as the inventory would.
func (e *Estate) Interfaces() []Interface {
	out := make([]Interface, len(e.enis))
	for i, n := range e.enis {
		out[i] = Interface{ID: n.id, Account: e.accounts[n.account], Addr: string(appendIP(nil, n.ip))}
	}
	return out
}

var serverPorts = []uint16{443, 443, 443, 80, 22, 3306, 5432, 6379, 8080, 9092, 27017}

// NewEstate returns an estate of n interfaces in a few accounts, with
// private addresses in 10.0.0.0/8, a third of them servers, and 20
// connections per interface: between interfaces, to public servers, and
// from public clients (some rejected), drawn from seed.
func NewEstate(seed uint64, n int) *Estate {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	e := &Estate{accounts: []string{"123456789012", "210987654321", "111111111111", "120431062118"}}
	seen := map[[4]byte]bool{}
	var servers []int
	for i := range n {
		var ip [4]byte
		for {
			ip = [4]byte{10, byte(r.IntN(4) * 16), byte(r.IntN(256)), byte(1 + r.IntN(254))}
			if !seen[ip] {
				seen[ip] = true
				break
			}
		}
		id := make([]byte, 0, 21)
		id = append(id, "eni-"...)
		for range 17 {
			id = append(id, "0123456789abcdef"[r.IntN(16)])
		}
		var port uint16
		if r.IntN(3) == 0 {
			port = serverPorts[r.IntN(len(serverPorts))]
			servers = append(servers, i)
		}
		e.enis = append(e.enis, eni{id: string(id), account: i % len(e.accounts), ip: ip, port: port})
	}
	public := func() [4]byte {
		return [4]byte{byte(3 + r.IntN(200)), byte(r.IntN(256)), byte(r.IntN(256)), byte(1 + r.IntN(254))}
	}
	for i := range n * 20 {
		f := flow{clientENI: i % n, serverENI: -1, clientPort: uint16(32768 + r.IntN(28232)), proto: 6}
		f.client = e.enis[f.clientENI].ip
		switch x := r.IntN(100); {
		case x < 60 && len(servers) > 0: // to a server of the estate
			f.serverENI = servers[r.IntN(len(servers))]
			f.server, f.serverPort = e.enis[f.serverENI].ip, e.enis[f.serverENI].port
		case x < 85: // to a public server
			f.server, f.serverPort = public(), []uint16{443, 443, 80}[r.IntN(3)]
		case x < 92: // DNS and NTP
			f.server, f.serverPort, f.proto = public(), []uint16{53, 123}[r.IntN(2)], 17
		case x < 93: // ping
			f.server, f.proto = public(), 1
			f.clientPort = 0
		default: // a public client: mostly scans, rejected
			f.serverENI, f.clientENI = f.clientENI, -1
			f.server, f.client = f.client, public()
			f.serverPort = []uint16{22, 3389, 443, 23}[r.IntN(4)]
			f.reject = r.IntN(10) < 7
		}
		e.flows = append(e.flows, f)
	}
	return e
}

// Write writes n records of the estate to w, the header line first,
// drawn from seed: connections picked with a skew (a few are long-lived
// and recur in many capture windows), each record one direction of a
// connection as one of its interfaces saw it. About 5% are REJECT, 1%
// NODATA and 0.1% SKIPDATA; times fall in the hour after start (unix
// seconds).
func (e *Estate) Write(w io.Writer, seed uint64, n int, start int64) error {
	r := rand.New(rand.NewPCG(seed, seed^0xda942042e4dd58b5))
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(Header + "\n")
	var line []byte
	for range n {
		line = e.appendRecord(line[:0], r, start)
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func appendIP(b []byte, ip [4]byte) []byte {
	for i, o := range ip {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendUint(b, uint64(o), 10)
	}
	return b
}

func (e *Estate) appendRecord(b []byte, r *rand.Rand, start int64) []byte {
	t0 := start + int64(r.IntN(3600))
	t1 := t0 + int64(1+r.IntN(60))
	b = append(b, "2 "...)
	if x := r.IntN(1000); x < 11 {
		me := &e.enis[r.IntN(len(e.enis))]
		b = append(b, e.accounts[me.account]...)
		b = append(b, ' ')
		b = append(b, me.id...)
		b = append(b, " - - - - - - - "...)
		b = strconv.AppendInt(b, t0, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, t1, 10)
		if x < 10 {
			return append(b, " - NODATA"...)
		}
		return append(b, " - SKIPDATA"...)
	}
	// Skewed: low indices are picked far more often.
	f := &e.flows[r.IntN(1+r.IntN(len(e.flows)))]
	// The observer: the client's or the server's interface.
	obs := f.clientENI
	if obs < 0 || (f.serverENI >= 0 && r.IntN(2) == 0) {
		obs = f.serverENI
	}
	me := &e.enis[obs]
	src, dst, sport, dport := f.client, f.server, f.clientPort, f.serverPort
	if !f.reject && r.IntN(2) == 0 { // the answer
		src, dst, sport, dport = dst, src, dport, sport
	}
	packets := 1 + r.IntN(20)
	if r.IntN(10) == 0 {
		packets += r.IntN(5000)
	}
	bytes := packets * (40 + r.IntN(1460))
	action := " ACCEPT OK"
	if f.reject {
		action = " REJECT OK"
	}
	b = append(b, e.accounts[me.account]...)
	b = append(b, ' ')
	b = append(b, me.id...)
	b = append(b, ' ')
	b = appendIP(b, src)
	b = append(b, ' ')
	b = appendIP(b, dst)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(sport), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(dport), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(f.proto), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(packets), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(bytes), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, t0, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, t1, 10)
	return append(b, action...)
}
