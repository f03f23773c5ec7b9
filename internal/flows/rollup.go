package flows

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/skymap/skymap/internal/collect/flowlogs"
	"github.com/skymap/skymap/internal/model"
)

// run is the state of one Process call, pooled with its maps so that
// adding a record allocates nothing once the interfaces, addresses and
// conversations of an object have been seen.
type run struct {
	snap     *snapshot
	accounts map[string]bool // monitored; nil: all
	public   PublicPolicy
	account  string // the object's
	region   string

	src bytes.Reader
	rd  *flowlogs.Reader

	// ifaces interns (account, interface-id) for this call: the index
	// snapshot may differ from the last call's.
	ifaces  map[string]int32
	ifList  []ifaceRun
	keyBuf  []byte
	strings map[string]string     // interned texts, kept across calls
	hosts   map[netip.Addr]string // urn:host:/<ip>, kept across calls

	rollups map[rollupKey]int32
	out     []model.FlowRollup
}

// ifaceRun is one reporting interface of an object.
type ifaceRun struct {
	id, account string
	monitored   bool
	info        *iface // nil when the index does not know it
	vpc         uint32
}

// rollupKey is what a rollup is per.
type rollupKey struct {
	minute         int64
	iface          int32 // in run.ifList
	client, server string
	clientAddr     netip.Addr
	serverAddr     netip.Addr
	serverPort     uint16
	protocol       uint8
	accepted       bool
	reporter       model.FlowSide
}

// Bounds on what a run keeps across calls.
const (
	maxInterned = 1 << 16
	maxHosts    = 1 << 18
)

func newRun() *run {
	return &run{
		ifaces:  map[string]int32{},
		strings: map[string]string{},
		hosts:   map[netip.Addr]string{},
		rollups: map[rollupKey]int32{},
	}
}

// begin readies r for an object.
func (r *run) begin(p *Processor, obj ObjectMeta) {
	r.snap = p.index.snap.Load()
	r.accounts, r.public, r.account, r.region = p.accounts, p.public, obj.Account, obj.Region
	clear(r.ifaces)
	r.ifList = r.ifList[:0]
	clear(r.rollups)
	r.out = r.out[:0]
	if len(r.strings) > maxInterned {
		clear(r.strings)
	}
	if len(r.hosts) > maxHosts {
		clear(r.hosts)
	}
}

// finish returns the rollups, in the order their first record came.
func (r *run) finish() []model.FlowRollup {
	if len(r.out) == 0 {
		return nil
	}
	out := make([]model.FlowRollup, len(r.out))
	copy(out, r.out)
	return out
}

// intern returns b as a string, the same string for the same text.
func (r *run) intern(b []byte) string {
	if s, ok := r.strings[string(b)]; ok {
		return s
	}
	s := string(b)
	r.strings[s] = s
	return s
}

// iface returns the number of the record's reporting interface: its
// interface-id (tgw-attachment-id for Transit Gateway flow logs) in its
// account.
func (r *run) iface(rec *flowlogs.Record) int32 {
	acct := rec.Text(flowlogs.FieldAccountID)
	id := rec.Text(flowlogs.FieldInterfaceID)
	if id == nil {
		id = rec.Text(flowlogs.FieldTGWAttachmentID)
	}
	r.keyBuf = append(append(append(r.keyBuf[:0], acct...), ' '), id...)
	if i, ok := r.ifaces[string(r.keyBuf)]; ok {
		return i
	}
	f := ifaceRun{id: r.intern(id), account: r.account}
	if acct != nil {
		f.account = r.intern(acct)
	}
	f.monitored = r.accounts == nil || r.accounts[f.account]
	if f.info = r.snap.eni(f.id); f.info != nil {
		f.vpc = f.info.vpc
	}
	r.ifList = append(r.ifList, f)
	i := int32(len(r.ifList) - 1)
	r.ifaces[string(r.keyBuf)] = i
	return i
}

// cgnat is the shared address space, which VPCs may use as private.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

func isPrivate(a netip.Addr) bool { return a.IsPrivate() || cgnat.Contains(a) }

// host returns urn:host:/<a>, made once per address.
func (r *run) host(a netip.Addr) string {
	if s, ok := r.hosts[a]; ok {
		return s
	}
	s := model.HostURN(a)
	r.hosts[a] = s
	return s
}

// endpoint attributes address a at t: its owner, else urn:host:/<a> for a
// private address, else what the public policy says. ok is false when
// the record is to be dropped.
func (r *run) endpoint(vpc uint32, a netip.Addr, t int64) (id string, addr netip.Addr, ok bool) {
	if !a.IsValid() {
		return "", a, false
	}
	if o := r.snap.lookup(vpc, a, t); o != "" {
		return o, a, true
	}
	if isPrivate(a) {
		return r.host(a), a, true
	}
	switch r.public {
	case PublicAggregate:
		return model.PublicAggregate, netip.Addr{}, true
	case PublicDrop:
		return "", a, false
	}
	return r.host(a), a, true
}

// add rolls up one OK record.
func (r *run) add(rec *flowlogs.Record, res *Result) {
	fi := r.iface(rec)
	f := &r.ifList[fi]
	if !f.monitored {
		res.Filtered++
		return
	}
	t := rec.Start
	if t == 0 {
		t = rec.End
	}
	vpc := f.vpc
	if vpc == 0 {
		if b := rec.Text(flowlogs.FieldVPCID); b != nil {
			vpc = r.snap.vpcs[string(b)]
		}
	}
	src, srcAddr, ok1 := r.endpoint(vpc, rec.SrcAddr, t)
	dst, dstAddr, ok2 := r.endpoint(vpc, rec.DstAddr, t)
	if !ok1 || !ok2 {
		res.Dropped++
		return
	}
	srcClient, port := Roles(rec.Protocol, rec.SrcPort, rec.DstPort,
		rec.Has(flowlogs.FieldSrcPort) && rec.Has(flowlogs.FieldDstPort), rec.TCPFlags)
	k := rollupKey{
		minute:     t - t%60,
		iface:      fi,
		serverPort: port,
		protocol:   rec.Protocol,
		accepted:   rec.Action != flowlogs.ActionReject,
	}
	srcReports := r.srcReports(f, rec, src, dst, t)
	if srcClient {
		k.client, k.clientAddr, k.server, k.serverAddr = src, srcAddr, dst, dstAddr
	} else {
		k.client, k.clientAddr, k.server, k.serverAddr = dst, dstAddr, src, srcAddr
	}
	if srcReports == srcClient {
		k.reporter = model.FlowClient
	} else {
		k.reporter = model.FlowServer
	}
	i, ok := r.rollups[k]
	if !ok {
		i = int32(len(r.out))
		r.out = append(r.out, model.FlowRollup{
			Minute:     time.Unix(k.minute, 0).UTC(),
			Account:    f.account,
			Region:     r.region,
			Interface:  f.id,
			Reporter:   k.reporter,
			Client:     k.client,
			Server:     k.server,
			ClientAddr: k.clientAddr,
			ServerAddr: k.serverAddr,
			ServerPort: k.serverPort,
			Protocol:   k.protocol,
			Accepted:   k.accepted,
		})
		r.rollups[k] = i
	}
	o := &r.out[i]
	if srcClient {
		o.BytesToServer += rec.Bytes
		o.PacketsToServer += rec.Packets
	} else {
		o.BytesToClient += rec.Bytes
		o.PacketsToClient += rec.Packets
	}
	o.Records++
}

// srcReports tells whether the record's source is on the reporting
// interface's side: the side whose address is one of the interface's;
// else the flow direction (egress: the source); else the side owned by
// the interface's owner; else the source.
func (r *run) srcReports(f *ifaceRun, rec *flowlogs.Record, src, dst string, t int64) bool {
	if n := f.info; n != nil {
		for _, a := range n.addrs {
			if a == rec.SrcAddr {
				return true
			}
			if a == rec.DstAddr {
				return false
			}
		}
	}
	switch rec.FlowDirection {
	case flowlogs.DirectionEgress:
		return true
	case flowlogs.DirectionIngress:
		return false
	}
	if n := f.info; n != nil {
		if o := r.snap.ifaceOwner(n, t); o == dst && o != src {
			return false
		}
	}
	return true
}
