// Package stackstate sends skymap's map to a StackState server in the
// receiver's intake format, as the StackState agent's aws_topology check
// does: POST <receiver>/stsAgent/intake?api_key=<key> with a JSON body
// holding "topologies" and "health".
//
// Each AWS account is one topology instance, of the agent check's type
// (aws-v2) and url (the account id), sent as a full snapshot:
// start_snapshot in its first body, stop_snapshot in its last, so that
// StackState deletes what the snapshot no longer holds. Components carry
// the fields of skymap's export beside the keys the agent put in their
// data; relations have the agent's external id, <source>-<type>-<target>.
// With health on, each account also has a health stream in StackState's
// repeat-snapshots model: one check state per component whose health is
// CLEAR, DEVIATING or CRITICAL (UNKNOWN is no StackState health state and
// is left out).
//
// A body holds at most MaxElements components, relations and check states
// (the agent's batcher_capacity default) and about MaxBytes of JSON. The
// Encoder makes the bodies; the Pusher posts them after every scan and
// every interval, with retries, and keeps the API key out of every error
// and log line.
package stackstate

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/skymap/skymap/internal/model"
)

// InstanceType is the topology instance type of the agent's aws_topology
// check, which the StackState AWS StackPack v2 synchronizes.
const InstanceType = "aws-v2"

// Limits of one body.
const (
	// MaxElements is the agent's batcher_capacity default: components,
	// relations and check states in one body.
	MaxElements = 10000
	// MaxBytes bounds a body's JSON before compression; a single element
	// larger than that still goes, alone.
	MaxBytes = 4 << 20
)

// Instance is a topology instance: the source of one snapshot.
type Instance struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// Snapshot is what a push sends of one instance: every component of an
// account and the relations from them.
type Snapshot struct {
	Instance   Instance
	Components []model.Component
	Relations  []model.Relation
}

// Snapshots splits a map into one Snapshot per account, sorted by
// account: the components of the account, and the relations whose source
// is one of them (a relation between accounts goes with its source, as
// the agent check of the source's account emitted it). Every account of
// accounts has a Snapshot, empty when the map holds nothing of it, so
// that StackState deletes what is gone. Relations whose ends are not in
// comps are left out.
func Snapshots(comps []model.Component, rels []model.Relation, accounts []string) []Snapshot {
	byAccount := map[string]*Snapshot{}
	get := func(account string) *Snapshot {
		s := byAccount[account]
		if s == nil {
			s = &Snapshot{Instance: Instance{Type: InstanceType, URL: account}}
			byAccount[account] = s
		}
		return s
	}
	for _, a := range accounts {
		get(a)
	}
	accountOf := make(map[string]string, len(comps))
	for _, c := range comps {
		accountOf[c.ID] = c.Account
		s := get(c.Account)
		s.Components = append(s.Components, c)
	}
	for _, r := range rels {
		account, ok := accountOf[r.Source]
		if _, known := accountOf[r.Target]; !ok || !known {
			continue
		}
		s := get(account)
		s.Relations = append(s.Relations, r)
	}
	out := make([]Snapshot, 0, len(byAccount))
	for _, s := range byAccount {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Snapshot) int { return strings.Compare(a.Instance.URL, b.Instance.URL) })
	return out
}

// IntakeURL returns the intake URL of a receiver given as the agent's
// sts_url (…/stsAgent), as the intake itself (…/stsAgent/intake) or as
// its base URL (to which /stsAgent/intake is added). The URL must be
// http(s) with a host and no query; errors do not quote it.
func IntakeURL(receiver string) (*url.URL, error) {
	u, err := url.Parse(receiver)
	switch {
	case err != nil:
		return nil, fmt.Errorf("receiver URL does not parse")
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return nil, fmt.Errorf("receiver URL %s is not an http(s) URL with a host", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery:
		return nil, fmt.Errorf("receiver URL must not have a query: the API key is given apart")
	}
	u.Fragment, u.RawFragment = "", ""
	p := strings.TrimRight(u.Path, "/")
	switch {
	case strings.HasSuffix(p, "/stsAgent/intake"):
	case strings.HasSuffix(p, "/stsAgent"):
		p += "/intake"
	default:
		p += "/stsAgent/intake"
	}
	u.Path, u.RawPath = p, ""
	return u, nil
}

// intake is one body: the receiver's common JSON object. Events, metrics
// and service checks are empty, as in the agent's topology bodies.
type intake struct {
	CollectionTimestamp int64          `json:"collection_timestamp"`
	InternalHostname    string         `json:"internalHostname"`
	Events              struct{}       `json:"events"`
	Metrics             []any          `json:"metrics"`
	ServiceChecks       []any          `json:"service_checks"`
	Health              []healthSync   `json:"health"`
	Topologies          []topologySync `json:"topologies"`
}

// topologySync is one instance's part of a body, in the field order of
// the agent's topology.Topology.
type topologySync struct {
	StartSnapshot bool              `json:"start_snapshot"`
	StopSnapshot  bool              `json:"stop_snapshot"`
	Instance      Instance          `json:"instance"`
	Components    []json.RawMessage `json:"components"`
	Relations     []json.RawMessage `json:"relations"`
	DeleteIDs     []string          `json:"delete_ids"`
}

// healthSync is one health stream's part of a body (the agent's
// health.Health): the snapshot's start and stop are objects, present only
// in the first and last body.
type healthSync struct {
	StartSnapshot *healthStart      `json:"start_snapshot,omitempty"`
	StopSnapshot  *struct{}         `json:"stop_snapshot,omitempty"`
	Stream        healthStream      `json:"stream"`
	CheckStates   []json.RawMessage `json:"check_states"`
}

// healthStart is the metadata of a health snapshot's start: how often the
// stream repeats (StackState accepts at most 1800 s).
type healthStart struct {
	RepeatIntervalS int `json:"repeat_interval_s"`
}

// healthStream names a health stream: urn:health:<source>:<stream>.
type healthStream struct {
	URN string `json:"urn"`
}

// HealthStream returns the URN of an instance's health stream.
func HealthStream(in Instance) string { return "urn:health:skymap:" + in.URL }

// typeName is how the intake writes a component's or relation's type.
type typeName struct {
	Name string `json:"name"`
}

// component is a component of the intake.
type component struct {
	ExternalID string        `json:"externalId"`
	Type       typeName      `json:"type"`
	Data       componentData `json:"data"`
}

// componentData is a component's data: the component as skymap's export
// writes it, and the keys the agent's checks put in data.
type componentData struct {
	model.Component
	// Tags are the labels, with the instance's integration-type and
	// integration-url tags: the agent's base check puts labels there.
	Tags []string `json:"tags"`
	// Domain is the value of the stackstate-domain label, which the
	// agent's base check maps to domain.
	Domain string `json:"domain,omitempty"`
	// AWSName, AWSTags, URN and Location are the keys the aws_topology
	// check adds: the display name, the AWS tags as a map, the other
	// identifiers and where the resource is.
	AWSName  string   `json:"Name"`
	AWSTags  any      `json:"Tags,omitempty"`
	URN      []string `json:"URN"`
	Location location `json:"Location"`
}

// location is the aws_topology check's Location.
type location struct {
	AwsAccount string `json:"AwsAccount"`
	AwsRegion  string `json:"AwsRegion"`
}

// relation is a relation of the intake.
type relation struct {
	ExternalID string         `json:"externalId"`
	Type       typeName       `json:"type"`
	SourceID   string         `json:"sourceId"`
	TargetID   string         `json:"targetId"`
	Data       map[string]any `json:"data"`
}

// checkState is one check state of a health stream.
type checkState struct {
	CheckStateID              string `json:"checkStateId"`
	Message                   string `json:"message,omitempty"`
	Health                    string `json:"health"`
	TopologyElementIdentifier string `json:"topologyElementIdentifier"`
	Name                      string `json:"name"`
}

// healthCheckName is the name of every check state skymap sends.
const healthCheckName = "AWS state and CloudWatch alarms"

// componentOf returns c as a component of instance in.
func componentOf(in Instance, c model.Component) component {
	tags := append(slices.Clip(c.Labels), "integration-type:"+in.Type, "integration-url:"+in.URL)
	slices.Sort(tags)
	d := componentData{
		Component: c,
		Tags:      slices.Compact(tags),
		AWSName:   c.Name,
		AWSTags:   c.Data["Tags"],
		URN:       c.Identifiers,
		Location:  location{AwsAccount: c.Account, AwsRegion: c.Region},
	}
	for _, l := range c.Labels {
		if v, ok := strings.CutPrefix(l, "stackstate-domain:"); ok {
			d.Domain = v
		}
	}
	if d.URN == nil {
		d.URN = []string{}
	}
	return component{ExternalID: c.ID, Type: typeName{c.Type}, Data: d}
}

// relationOf returns r as a relation of the intake, its external id the
// agent's.
func relationOf(r model.Relation) relation {
	data := r.Data
	if data == nil {
		data = map[string]any{}
	}
	return relation{ExternalID: r.Source + "-" + r.Type + "-" + r.Target, Type: typeName{r.Type},
		SourceID: r.Source, TargetID: r.Target, Data: data}
}

// checkStateOf returns c's health as a check state, false when StackState
// has no state for it (none, or UNKNOWN).
func checkStateOf(c model.Component) (checkState, bool) {
	switch c.Health {
	case model.HealthClear, model.HealthDeviating, model.HealthCritical:
	default:
		return checkState{}, false
	}
	var msg strings.Builder
	for i, r := range c.HealthReasons {
		if i > 0 {
			msg.WriteByte('\n')
		}
		msg.WriteString("- " + r)
	}
	return checkState{CheckStateID: c.ID, Message: msg.String(), Health: c.Health,
		TopologyElementIdentifier: c.ID, Name: healthCheckName}, true
}

// Counts are what was sent.
type Counts struct {
	Components  int `json:"components"`
	Relations   int `json:"relations"`
	CheckStates int `json:"check_states"`
	Bodies      int `json:"bodies"`
}

func (c *Counts) add(o Counts) {
	c.Components += o.Components
	c.Relations += o.Relations
	c.CheckStates += o.CheckStates
	c.Bodies += o.Bodies
}

// Encoder makes the bodies of snapshots.
type Encoder struct {
	// Hostname is the body's internalHostname: the host that collected.
	Hostname string
	// Time is the body's collection_timestamp.
	Time time.Time
	// Health sends the instance's health stream beside its topology.
	Health bool
	// RepeatInterval is how often the health stream is sent again, at
	// most 30 minutes (StackState's limit).
	RepeatInterval time.Duration
	// MaxElements and MaxBytes bound a body; 0 means the package's.
	MaxElements, MaxBytes int
}

// Encode calls send with each body of s in order: the first starts the
// topology snapshot (and the health stream's), the last stops it. It
// stops at the first error of send and returns it, with what the bodies
// sent so far held.
func (e *Encoder) Encode(s Snapshot, send func(body []byte) error) (Counts, error) {
	b := &batch{enc: e, in: s.Instance, start: true}
	var sent Counts
	flush := func(last bool) error {
		body, err := b.body(last)
		if err != nil {
			return err
		}
		if err := send(body); err != nil {
			return err
		}
		sent.add(b.counts)
		sent.Bodies++
		b.reset()
		return nil
	}
	add := func(kind int, what string, v any) error {
		raw, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode %s: %w", what, err)
		}
		if b.full(len(raw)) {
			if err := flush(false); err != nil {
				return err
			}
		}
		b.add(kind, raw)
		return nil
	}
	for _, c := range s.Components {
		if err := add(kindComponent, "component "+c.ID, componentOf(s.Instance, c)); err != nil {
			return sent, err
		}
	}
	for _, r := range s.Relations {
		if err := add(kindRelation, "relation "+r.Source+" "+r.Type+" "+r.Target, relationOf(r)); err != nil {
			return sent, err
		}
	}
	if e.Health {
		for _, c := range s.Components {
			if cs, ok := checkStateOf(c); ok {
				if err := add(kindCheckState, "health of "+c.ID, cs); err != nil {
					return sent, err
				}
			}
		}
	}
	return sent, flush(true)
}

// Kinds of elements in a batch.
const (
	kindComponent = iota
	kindRelation
	kindCheckState
)

// envelopeBytes is more than a body holds besides its elements.
const envelopeBytes = 1024

// batch is the body being filled.
type batch struct {
	enc                 *Encoder
	in                  Instance
	start               bool // this is the snapshot's first body
	comps, rels, checks []json.RawMessage
	bytes               int
	counts              Counts
}

// full tells whether an element of n bytes does not fit in the batch.
func (b *batch) full(n int) bool {
	maxElems := b.enc.MaxElements
	if maxElems <= 0 {
		maxElems = MaxElements
	}
	maxBytes := b.enc.MaxBytes
	if maxBytes <= 0 {
		maxBytes = MaxBytes
	}
	elems := len(b.comps) + len(b.rels) + len(b.checks)
	return elems > 0 && (elems >= maxElems || envelopeBytes+b.bytes+n+1 > maxBytes)
}

func (b *batch) add(kind int, raw json.RawMessage) {
	switch kind {
	case kindComponent:
		b.comps = append(b.comps, raw)
		b.counts.Components++
	case kindRelation:
		b.rels = append(b.rels, raw)
		b.counts.Relations++
	case kindCheckState:
		b.checks = append(b.checks, raw)
		b.counts.CheckStates++
	}
	b.bytes += len(raw) + 1
}

// reset empties the batch after its body was sent.
func (b *batch) reset() {
	b.start = false
	b.comps, b.rels, b.checks = nil, nil, nil
	b.bytes = 0
	b.counts = Counts{}
}

// body returns the batch's body; last stops the snapshots.
func (b *batch) body(last bool) ([]byte, error) {
	doc := intake{
		CollectionTimestamp: b.enc.Time.Unix(),
		InternalHostname:    b.enc.Hostname,
		Metrics:             []any{},
		ServiceChecks:       []any{},
		Health:              []healthSync{},
		Topologies:          []topologySync{},
	}
	if b.start || last || len(b.comps)+len(b.rels) > 0 {
		doc.Topologies = append(doc.Topologies, topologySync{
			StartSnapshot: b.start, StopSnapshot: last, Instance: b.in,
			Components: nonNil(b.comps), Relations: nonNil(b.rels), DeleteIDs: []string{},
		})
	}
	if b.enc.Health && (b.start || last || len(b.checks) > 0) {
		h := healthSync{Stream: healthStream{URN: HealthStream(b.in)}, CheckStates: nonNil(b.checks)}
		if b.start {
			h.StartSnapshot = &healthStart{RepeatIntervalS: repeatSeconds(b.enc.RepeatInterval)}
		}
		if last {
			h.StopSnapshot = &struct{}{}
		}
		doc.Health = append(doc.Health, h)
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode body of instance %s: %w", b.in.URL, err)
	}
	return body, nil
}

// repeatSeconds is a health stream's repeat interval in seconds, from 1
// to StackState's limit of 1800.
func repeatSeconds(d time.Duration) int {
	return min(max(int(d/time.Second), 1), 1800)
}

func nonNil(s []json.RawMessage) []json.RawMessage {
	if s == nil {
		return []json.RawMessage{}
	}
	return s
}
