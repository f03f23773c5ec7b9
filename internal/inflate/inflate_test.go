package inflate

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"strings"
	"testing"
)

func gz(t *testing.T, texts ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, s := range texts {
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// CI builds with libdeflate (.ci/run installs libdeflate-dev and the
// Makefile sets the tag): a build without it there is a mistake.
func TestAvailableInCI(t *testing.T) {
	if os.Getenv("CI") == "true" && !Available {
		t.Fatal("CI=true but built without the libdeflate tag")
	}
}

func TestGunzip(t *testing.T) {
	if !Available {
		if _, err := Gunzip(nil, gz(t, "x"), Limit); !errors.Is(err, ErrUnavailable) {
			t.Errorf("without libdeflate: %v", err)
		}
		t.Skip("built without libdeflate")
	}
	big := strings.Repeat("2 123456789012 eni-0123 10.0.0.1 10.0.0.2 443 40000 6 1 60 1 2 ACCEPT OK\n", 20000)
	for _, tt := range []struct {
		name    string
		members []string
	}{
		{"one member", []string{big}},
		{"empty", []string{""}},
		// The last member is the smallest: the first guess of the size is
		// short, and the buffer grows.
		{"members", []string{big, big[:1000], "tail\n"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("kept:")
			got, err := Gunzip(prefix, gz(t, tt.members...), Limit)
			if err != nil {
				t.Fatal(err)
			}
			if want := "kept:" + strings.Join(tt.members, ""); string(got) != want {
				t.Errorf("got %d bytes, want %d", len(got), len(want))
			}
		})
	}
}

func TestGunzipRefuses(t *testing.T) {
	if !Available {
		t.Skip("built without libdeflate")
	}
	text := strings.Repeat("abc", 10000)
	body := gz(t, text)
	flipped := bytes.Clone(body)
	flipped[len(flipped)/2] ^= 0xff
	badCRC := bytes.Clone(body)
	badCRC[len(badCRC)-8] ^= 1
	for _, tt := range []struct {
		name  string
		body  []byte
		limit int
		want  error
	}{
		{"flipped byte", flipped, Limit, ErrCorrupt},
		{"bad checksum", badCRC, Limit, ErrCorrupt},
		{"truncated", body[:len(body)-10], Limit, ErrCorrupt},
		{"trailing garbage", append(bytes.Clone(body), "garbage that is not gzip"...), Limit, ErrCorrupt},
		{"not gzip", []byte(strings.Repeat("plain text", 5)), Limit, ErrCorrupt},
		{"tiny", []byte{0x1f, 0x8b}, Limit, ErrCorrupt},
		{"over the limit", body, len(text) - 1, ErrTooLarge},
		// The last member claims little; the first holds more than the
		// limit.
		{"members over the limit", gz(t, text, "x"), len(text) / 2, ErrTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Gunzip([]byte("kept"), tt.body, tt.limit)
			if !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
			if string(got) != "kept" {
				t.Errorf("dst %q after an error", got)
			}
		})
	}
}
