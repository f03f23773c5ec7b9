package topology

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/skymap/skymap/internal/model"
)

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	strs := []string{"", "plain", `<script>alert("x")</script>`, "a&b", "Zürich – 東京 ✓", "tab\tnew\nline\r", "\x00\x1f\x7f",
		"\u2028\u2029", "bad \xff utf8 \xc3", `back\slash "quote"`, "emoji 🙂", "\u00e9"}
	floats := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 123.456, 1e20, 1e21, 1e-6, 1e-7, 123456789012345678, 3.0e-9, -2.5e22, math.MaxFloat64, math.SmallestNonzeroFloat64}
	rng := rand.New(rand.NewPCG(3, 4))
	var gen func(depth int) any
	gen = func(depth int) any {
		switch k := rng.IntN(9); {
		case k == 0:
			return nil
		case k == 1:
			return rng.IntN(2) == 0
		case k == 2:
			return floats[rng.IntN(len(floats))]
		case k == 3 && depth < 4:
			m := map[string]any{}
			for range rng.IntN(5) {
				m[strs[rng.IntN(len(strs))]] = gen(depth + 1)
			}
			return m
		case k == 4 && depth < 4:
			l := []any{}
			for range rng.IntN(4) {
				l = append(l, gen(depth+1))
			}
			return l
		case k == 5:
			return map[string]string{strs[rng.IntN(len(strs))]: strs[rng.IntN(len(strs))], "k": "v"}
		case k == 6:
			return []string{strs[rng.IntN(len(strs))]}
		}
		return strs[rng.IntN(len(strs))]
	}
	for i := range 5000 {
		v := gen(0)
		want, _ := json.Marshal(v)
		got, err := appendJSON(nil, v)
		if err != nil || string(got) != string(want) {
			t.Fatalf("case %d: appendJSON = %s, %v; json.Marshal = %s", i, got, err, want)
		}
	}
	for _, f := range floats {
		want, _ := json.Marshal(f)
		if got, _ := appendJSON(nil, f); string(got) != string(want) {
			t.Errorf("float %v: %s, want %s", f, got, want)
		}
	}
	if _, err := appendJSON(nil, math.Inf(1)); err == nil {
		t.Error("appendJSON(+Inf) did not fail")
	}
}

func TestComponentJSON(t *testing.T) {
	c := model.Component{ID: "i-1", Type: "t", Name: "<b>", Identifiers: []string{"a"}, Labels: []string{}, Account: "1",
		Region: "r", Layer: "L", Environment: "e", ConsoleURL: "https://x?a=1&b=2", Data: map[string]any{"k": "v"}}
	want, _ := json.Marshal(c)
	data, _ := appendJSON(nil, c.Data)
	if got := componentJSON(c, data); string(got) != string(want) {
		t.Errorf("componentJSON = %s\nwant %s", got, want)
	}
}

func BenchmarkEncodeData(b *testing.B) {
	d := map[string]any{"InstanceId": "i-0123456789abcdef0", "InstanceType": "m5.large", "State": map[string]any{"Name": "running", "Code": 16.0},
		"Tags": map[string]string{"Name": "web-1", "team": "platform"}, "NetworkInterfaces": []any{map[string]any{"PrivateIpAddress": "10.0.0.1"}}}
	b.Run("appendJSON", func(b *testing.B) {
		for range b.N {
			appendJSON(nil, d)
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		for range b.N {
			json.Marshal(d)
		}
	})
}
