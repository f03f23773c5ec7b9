package config

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// FieldError is one problem found in a config file. Parse joins one per
// problem; reach them with errors.As or by unwrapping the joined error.
type FieldError struct {
	// Path is the YAML path of the problem, e.g. "instances[0].regions[1]";
	// "" is the document itself.
	Path string
	// Line is the 1-based line of the problem in the file, 0 when unknown.
	Line int
	// Msg says what is wrong. It never quotes a secret's value.
	Msg string
}

// Error renders the problem as "path: message (line N)".
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	return b.String()
}

// errorf returns a *FieldError at path, relative to the struct being validated.
func errorf(path, format string, args ...any) error {
	return &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// prefix puts parent in front of the path of every FieldError in err, which
// is nil, a *FieldError or a join of them. It returns nil for a nil err.
func prefix(parent string, err error) error {
	fes := flatten(err)
	errs := make([]error, len(fes))
	for i, fe := range fes {
		fe.Path = joinPath(parent, fe.Path)
		errs[i] = fe
	}
	return errors.Join(errs...)
}

// joinPath appends a relative path (a key, "[i]" or a longer path) to parent.
func joinPath(parent, rel string) string {
	switch {
	case parent == "":
		return rel
	case rel == "":
		return parent
	case strings.HasPrefix(rel, "["):
		return parent + rel
	}
	return parent + "." + rel
}

// childPath returns the path of key in the mapping at parent. Keys that are
// not plain words are quoted: aws.endpoints["cloudwatch logs"].
func childPath(parent, key string) string {
	plain := key != "" && strings.IndexFunc(key, func(r rune) bool {
		return !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) < 0
	if !plain {
		return parent + "[" + strconv.Quote(key) + "]"
	}
	return joinPath(parent, key)
}

// parentPath returns the path of the mapping or list that holds path.
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		return path[:strings.LastIndex(path, "[")]
	}
	if i := strings.LastIndex(path, "."); i >= 0 {
		return path[:i]
	}
	return ""
}

// flatten returns the FieldErrors of a tree of joined errors, in order. Any
// other error becomes a FieldError on the document.
func flatten(err error) []*FieldError {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*FieldError
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	if fe, ok := err.(*FieldError); ok {
		return []*FieldError{fe}
	}
	return []*FieldError{{Msg: err.Error()}}
}

// minScrubbed is the length from which scrub hides a secret: shorter ones
// would garble messages and are no secrets anyway.
const minScrubbed = 6

// scrub hides the secrets' values wherever a message quotes them, for a
// secret pasted into the wrong key (regions, role_arn). Messages about the
// secret keys themselves never quote their values in the first place.
func scrub(problems []*FieldError, secrets ...Secret) {
	for _, s := range secrets {
		if len(s) < minScrubbed {
			continue
		}
		quoted := strconv.Quote(s.Reveal())
		for _, text := range []string{s.Reveal(), quoted[1 : len(quoted)-1]} {
			for _, p := range problems {
				p.Msg = strings.ReplaceAll(p.Msg, text, redacted)
				p.Path = strings.ReplaceAll(p.Path, text, redacted)
			}
		}
	}
}

// join orders problems by line, those without a line last, and joins them.
func join(problems []*FieldError) error {
	slices.SortStableFunc(problems, func(a, b *FieldError) int {
		return cmp.Compare(lineKey(a.Line), lineKey(b.Line))
	})
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = p
	}
	return errors.Join(errs...)
}

func lineKey(line int) int {
	if line <= 0 {
		return math.MaxInt
	}
	return line
}
