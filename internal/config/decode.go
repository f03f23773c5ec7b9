package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decoder walks a yaml.Node tree into the raw structs by their yaml tags,
// strictly: unknown keys, duplicate keys and values of the wrong kind are
// recorded as FieldErrors with their YAML path, and decoding goes on so that
// every problem is found. A null value keeps the field's default.
type decoder struct {
	errs   []*FieldError
	lines  map[string]int  // line of every path seen, to place later errors
	failed map[string]bool // paths that had a decoding error
}

func newDecoder() *decoder {
	return &decoder{lines: map[string]int{}, failed: map[string]bool{}}
}

// document decodes the single YAML document in data into out, a pointer to a
// struct. It returns an error only for YAML that does not parse; an empty
// document leaves out as it is.
func (d *decoder) document(data []byte, out any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err // "yaml: line N: ..."; the parser never quotes values
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		d.note("", &extra, "a config file holds one YAML document; found a second") // on its "---" line
	case !errors.Is(err, io.EOF):
		return err
	}
	if len(doc.Content) > 0 {
		d.decode(doc.Content[0], reflect.ValueOf(out).Elem(), "")
	}
	return nil
}

// fail records a problem at path, on the line of node n, and that the value
// at path could not be decoded.
func (d *decoder) fail(path string, n *yaml.Node, format string, args ...any) {
	d.failed[path] = true
	d.note(path, n, format, args...)
}

// note records a problem at path, on the line of node n, that left the value
// at path decoded (a duplicate key is ignored, the first one stands).
func (d *decoder) note(path string, n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, &FieldError{Path: path, Line: n.Line, Msg: fmt.Sprintf(format, args...)})
}

// failedAt tells whether decoding path or one of its parents failed, so that
// validation does not report the same problem again.
func (d *decoder) failedAt(path string) bool {
	for p := range d.failed {
		if p == "" || p == path || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") {
			return true
		}
	}
	return false
}

// line returns the line of path, or of its nearest parent seen in the file.
func (d *decoder) line(path string) int {
	for path != "" {
		if l, ok := d.lines[path]; ok {
			return l
		}
		path = parentPath(path)
	}
	return 0
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == 0 || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.decode(n, p.Elem(), path)
		v.Set(p)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(path, n, "expected a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			d.lines[p] = item.Line
			d.decode(item, s.Index(i), p)
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.fail(path, n, "expected a mapping, got %s", describe(n))
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		d.entries(n, path, func(key, p string, _, val *yaml.Node) {
			e := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, e, p)
			m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), e)
		})
		v.Set(m)
	case reflect.String:
		// Any scalar is a string (external_id: 12345); a mapping or list
		// is not. Secrets are strings: this never quotes a value.
		if n.Kind != yaml.ScalarNode {
			d.fail(path, n, "expected a string, got %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		var i int
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			d.fail(path, n, "expected an integer, got %s", describe(n))
			return
		}
		v.SetInt(int64(i))
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.fail(path, n, "expected true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	default:
		// The raw structs use only the kinds above; a test decodes them all.
		panic("config: cannot decode into " + v.Type().String())
	}
}

// decodeStruct decodes a mapping into the struct fields named by yaml tags.
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n, "expected a mapping, got %s", describe(n))
		return
	}
	fields := map[string]int{}
	var names []string
	for i := range v.NumField() {
		if name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ","); name != "" {
			fields[name] = i
			names = append(names, name)
		}
	}
	d.entries(n, path, func(key, p string, k, val *yaml.Node) {
		i, ok := fields[key]
		if !ok {
			d.fail(p, k, "unknown key%s", suggest(key, names))
			return
		}
		d.decode(val, v.Field(i), p)
	})
}

// entries calls f for every key of mapping n with a string key that is not a
// duplicate, with the key's path.
func (d *decoder) entries(n *yaml.Node, path string, f func(key, p string, k, val *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(path, k, "expected a string key, got %s", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.fail(path, k, "merge keys (<<) are not supported")
			continue
		}
		p := childPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.note(p, k, "duplicate key (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		d.lines[p] = k.Line
		f(k.Value, p, k, val)
	}
}

// describe names what node n is for an error message. Only non-string
// targets show a scalar's value, so a secret is never quoted.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

// suggest returns `; did you mean "x"?` for the known name closest to an
// unknown one, when it is close enough to be a typo, else "".
func suggest(unknown string, known []string) string {
	best, bestDist := "", min(2, max(1, len(unknown)/3))+1 // a third of it, at most two edits
	for _, name := range known {
		if dist := editDistance(unknown, name); dist < bestDist {
			best, bestDist = name, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
