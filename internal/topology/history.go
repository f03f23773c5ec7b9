package topology

import (
	"encoding/json"
	"reflect"
	"sort"
	"time"

	"github.com/skymap/skymap/internal/model"
)

// Entities of a version.
const (
	EntityComponent = "component"
	EntityRelation  = "relation"
)

func componentVersion(now time.Time, cause, change string, old, cur *model.Component) model.Version {
	v := model.Version{Time: now, Entity: EntityComponent, Change: change, Cause: cause}
	var oldDoc, curDoc any
	if old != nil {
		v.ID = old.ID
		oldDoc = old
	}
	if cur != nil {
		v.ID = cur.ID
		v.State = mustJSON(cur)
		curDoc = cur
	}
	if change == model.Updated {
		v.Diff = mustJSON(Diff(oldDoc, curDoc))
	}
	return v
}

func relationVersions(now time.Time, cause string, before, after map[model.RelationKey]model.Relation) []model.Version {
	var out []model.Version
	for k, r := range after {
		old, existed := before[k]
		switch {
		case !existed:
			out = append(out, model.Version{Time: now, Entity: EntityRelation, ID: RelationID(k), Change: model.Created, State: mustJSON(r), Cause: cause})
		case !equalJSON(old, r):
			out = append(out, model.Version{Time: now, Entity: EntityRelation, ID: RelationID(k), Change: model.Updated,
				State: mustJSON(r), Diff: mustJSON(Diff(old, r)), Cause: cause})
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			out = append(out, model.Version{Time: now, Entity: EntityRelation, ID: RelationID(k), Change: model.Deleted, Cause: cause})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// FieldChange is one changed leaf of a Diff.
type FieldChange struct {
	Old any `json:"old"`
	New any `json:"new"`
}

// Diff compares the JSON forms of a and b and returns, for every leaf that
// differs, its dotted path (e.g. "data.State.Name") with old and new values.
// Arrays are compared whole. A missing leaf has the value nil.
func Diff(a, b any) map[string]FieldChange {
	fa, fb := map[string]any{}, map[string]any{}
	flatten("", toJSONValue(a), fa)
	flatten("", toJSONValue(b), fb)
	out := map[string]FieldChange{}
	for k, va := range fa {
		if vb, ok := fb[k]; !ok || !reflect.DeepEqual(va, vb) {
			out[k] = FieldChange{Old: va, New: fb[k]}
		}
	}
	for k, vb := range fb {
		if _, ok := fa[k]; !ok {
			out[k] = FieldChange{Old: nil, New: vb}
		}
	}
	return out
}

func toJSONValue(v any) any {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return nil
	}
	return out
}

func flatten(prefix string, v any, out map[string]any) {
	m, ok := v.(map[string]any)
	if !ok || (len(m) == 0 && prefix != "") {
		if prefix != "" {
			out[prefix] = v
		}
		return
	}
	for k, sub := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		flatten(p, sub, out)
	}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		// Components hold JSON-decoded data only, so this should not happen;
		// keep the history entry readable rather than fail the change.
		b, _ = json.Marshal(map[string]string{"marshal_error": err.Error()})
	}
	return b
}
