package clickhouse

import (
	"strconv"
	"testing"
)

// TestParseInt compares parseInt with strconv.ParseInt.
func TestParseInt(t *testing.T) {
	for _, s := range []string{"0", "7", "-7", "+7", "", "-", "+", "x", "1x", "2147483647", "2147483648", "-2147483648",
		"-2147483649", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"00000000000000000000001", "00000000000000000001", "-0000000000000000001", "99999999999999999999", "18446744073709551616", "0x10", "1_000", " 1"} {
		for _, bits := range []uint{32, 64} {
			want, err := strconv.ParseInt(s, 10, int(bits))
			got, ok := parseInt([]byte(s), bits)
			if ok != (err == nil) || ok && got != want {
				t.Errorf("parseInt(%q, %d) = %d, %v; want %d, %v", s, bits, got, ok, want, err)
			}
		}
	}
}
