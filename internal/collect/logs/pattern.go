package logs

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxFilterBytes bounds a text filter: CloudWatch takes filter patterns of
// up to 1,024 characters, and quoting adds some.
const MaxFilterBytes = 512

// TermPattern returns the CloudWatch filter pattern matching log events
// that contain text as is: a quoted term, with backslashes and double
// quotes escaped, so that no user text becomes pattern syntax (no
// operators, JSON or space-delimited selectors, regular expressions). An
// empty text gives an empty pattern, which matches every event. Text with
// control characters, invalid UTF-8 or over MaxFilterBytes is refused.
func TermPattern(text string) (string, error) {
	if text == "" {
		return "", nil
	}
	if len(text) > MaxFilterBytes {
		return "", errors.New("longer than 512 bytes")
	}
	if !utf8.ValidString(text) {
		return "", errors.New("not valid UTF-8")
	}
	if strings.IndexFunc(text, unicode.IsControl) >= 0 {
		return "", errors.New("contains a control character")
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(text) + `"`, nil
}
