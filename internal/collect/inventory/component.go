package inventory

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/skymap/skymap/internal/model"
)

// Tags that StackState gives a meaning (TOPOLOGY.md, "Special tags").
const (
	tagIdentifier  = "stackstate-identifier"
	tagEnvironment = "stackstate-environment"
	tagName        = "Name"
)

// resource is what a collector knows of one resource before it becomes a
// component.
type resource struct {
	typ string
	// id is the component id; short is the id AWS uses in its own console
	// (instance id, bucket name), used for the console link and ARN.
	id, short string
	name      string
	region    string // empty means the target's region
	tags      map[string]string
	idents    []string
	data      any
}

// component turns a resource into a model.Component in the target's
// account: labels from tags, special tags, layer, console URL, data.
func (t Target) component(r resource) model.Component {
	region := r.region
	if region == "" {
		region = t.Region
	}
	c := model.Component{
		ID:          r.id,
		Type:        r.typ,
		Name:        r.name,
		Identifiers: append([]string(nil), r.idents...),
		Labels:      []string{"aws-account:" + t.Account, "aws-region:" + region, "stackpack:aws-v2"},
		Account:     t.Account,
		Region:      region,
		Layer:       Layer(r.typ),
		ConsoleURL:  ConsoleURL(r.typ, t.Partition, region, r.short),
		Data:        toData(r.data),
	}
	if n := r.tags[tagName]; n != "" {
		c.Name = n
	}
	if c.Name == "" {
		c.Name = r.short
	}
	if arn := arnOf(r.typ, t.Partition, region, t.Account, r.short); arn != "" && arn != r.id {
		c.Identifiers = append(c.Identifiers, arn)
	}
	keys := make([]string, 0, len(r.tags))
	for k := range r.tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := r.tags[k]
		if v == "" {
			c.Labels = append(c.Labels, k)
		} else {
			c.Labels = append(c.Labels, k+":"+v)
		}
		switch k {
		case tagIdentifier:
			c.Identifiers = append(c.Identifiers, v)
		case tagEnvironment:
			c.Environment = v
		}
	}
	if r.tags != nil {
		c.Data["Tags"] = r.tags
	}
	return c
}

// toData converts an SDK value to the JSON-shaped map kept as component data
// (field names as in the AWS API reference, timestamps as RFC 3339, numbers
// as float64), leaving out null, empty-string and empty-object members: the
// SDK's structs carry every field the API may return, most of them unset.
// It gives what a JSON round trip would, walking the value directly: the
// round trip was a third of a scan's CPU time.
func toData(v any) map[string]any {
	out, _ := dataOf(reflect.ValueOf(v)).(map[string]any)
	if out == nil {
		return map[string]any{}
	}
	return out
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// typeDesc is what dataOf needs to know of a type, worked out once.
type typeDesc struct {
	selfEncoding bool // implements json.Marshaler or encoding.TextMarshaler
	flatten      bool // a struct with embedded fields: left to encoding/json
	fields       []fieldDesc
}

type fieldDesc struct {
	index int
	name  string
}

var typeDescs sync.Map // reflect.Type -> *typeDesc

func describeType(t reflect.Type) *typeDesc {
	if d, ok := typeDescs.Load(t); ok {
		return d.(*typeDesc)
	}
	d := &typeDesc{selfEncoding: t.Implements(jsonMarshaler) || t.Implements(textMarshaler)}
	if t.Kind() == reflect.Struct {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous && f.IsExported() {
				d.flatten = true
			}
			if !f.IsExported() {
				continue
			}
			name := f.Name
			if tag, ok := f.Tag.Lookup("json"); ok {
				if tag == "-" {
					continue
				}
				if n, _, _ := strings.Cut(tag, ","); n != "" {
					name = n
				}
			}
			d.fields = append(d.fields, fieldDesc{i, name})
		}
	}
	typeDescs.Store(t, d)
	return d
}

// dataOf converts one value; nil means "leave the member out".
func dataOf(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		if v.Len() == 0 {
			return nil
		}
		if v.Type() == stringType {
			return v.String()
		}
	case reflect.Bool:
		return v.Bool()
	}
	if v.Type() == timeType {
		// What time.Time's MarshalJSON writes, without the round trip.
		return v.Interface().(time.Time).Format(time.RFC3339Nano)
	}
	d := describeType(v.Type())
	if d.selfEncoding {
		if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
			return nil
		}
		return viaJSON(v.Interface())
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return dataOf(v.Elem())
	case reflect.String:
		return v.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(v.Uint())
	case reflect.Float32, reflect.Float64:
		return v.Float()
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return base64.StdEncoding.EncodeToString(v.Bytes())
		}
		fallthrough
	case reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = elemOf(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		out := make(map[string]any, v.Len())
		it := v.MapRange()
		for it.Next() {
			k := it.Key()
			var key string
			switch k.Kind() {
			case reflect.String:
				key = k.String()
			default:
				key = fmt.Sprint(k.Interface())
			}
			if sub := dataOf(it.Value()); keep(sub) {
				out[key] = sub
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case reflect.Struct:
		if d.flatten {
			return viaJSON(v.Interface()) // embedded fields flatten: leave it to encoding/json
		}
		var out map[string]any
		for _, f := range d.fields {
			if sub := dataOf(v.Field(f.index)); keep(sub) {
				if out == nil {
					out = make(map[string]any, 8)
				}
				out[f.name] = sub
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return viaJSON(v.Interface())
}

var (
	stringType = reflect.TypeFor[string]()
	timeType   = reflect.TypeFor[time.Time]()
)

// elemOf converts an element of a list, where JSON keeps nulls and empty
// values in place.
func elemOf(v reflect.Value) any {
	sub := dataOf(v)
	if sub != nil {
		return sub
	}
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && !v.IsNil() {
		v = v.Elem()
	}
	switch {
	case !v.IsValid():
		return nil
	case v.Kind() == reflect.String:
		return ""
	case v.Kind() == reflect.Struct || v.Kind() == reflect.Map && !v.IsNil():
		return map[string]any{}
	}
	return nil
}

// keep tells whether a converted member stays: not null, not an empty
// string, not an empty object.
func keep(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case map[string]any:
		return len(v) > 0
	}
	return true
}

// viaJSON converts a value that encodes itself (timestamps, documents) by a
// JSON round trip, pruned like the rest.
func viaJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return nil
	}
	prune(out)
	if m, ok := out.(map[string]any); ok && len(m) == 0 {
		return nil
	}
	return out
}

// prune removes null, empty-string and empty-object members, recursively.
func prune(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			prune(sub)
			if !keep(sub) {
				delete(v, k)
			}
		}
	case []any:
		for _, sub := range v {
			prune(sub)
		}
	}
}

// rel is a relation of type typ between two identifiers.
func rel(src, dst, typ string) model.Relation {
	return model.Relation{Source: src, Target: dst, Type: typ, Data: map[string]any{}}
}
