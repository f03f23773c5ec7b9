package awsconn

import (
	"bytes"
	"strings"
)

// xmlScan follows an XML answer as it streams by, up to its root element's
// start tag; the rest is judged by the answer's last bytes.
type xmlScan struct {
	state     xmlState
	prev      byte // the byte before, in a declaration or tag
	dashes    int  // '-' in a row, in a comment
	quote     byte // the quote of the attribute value being read, or 0
	name      []byte
	selfClose bool
}

type xmlState int

const (
	xmlProlog  xmlState = iota // before the root, outside markup
	xmlOpen                    // after '<'
	xmlPI                      // in <? ... ?>
	xmlBang                    // after "<!"
	xmlComment                 // in <!-- ... -->
	xmlDecl                    // in <!DOCTYPE ...>
	xmlName                    // in the root element's name
	xmlTag                     // in the root's start tag, after its name
	xmlContent                 // after the root's start tag
)

// maxRootName bounds the root element's name.
const maxRootName = 256

// scan reads p, and tells why the answer cannot be whole once it knows.
// root, when not "", is the local name the root element must have.
func (x *xmlScan) scan(p []byte, root string) *answerError {
	for _, c := range p {
		switch x.state {
		case xmlContent:
			return nil
		case xmlProlog:
			switch {
			case c == '<':
				x.state = xmlOpen
			case strings.IndexByte(space, c) < 0:
				return refuse("not XML: %q before the root element", c)
			}
		case xmlOpen:
			switch c {
			case '?':
				x.state, x.prev = xmlPI, 0
			case '!':
				x.state = xmlBang
			case '/':
				return refuse("not XML: an end tag before the root element")
			default:
				x.state, x.name = xmlName, append(x.name, c)
			}
		case xmlPI:
			if c == '>' && x.prev == '?' {
				x.state = xmlProlog
			}
			x.prev = c
		case xmlBang:
			x.state, x.dashes = xmlDecl, 0
			if c == '-' {
				x.state = xmlComment
			}
		case xmlComment:
			switch {
			case c == '>' && x.dashes >= 2:
				x.state = xmlProlog
			case c == '-':
				x.dashes++
			default:
				x.dashes = 0
			}
		case xmlDecl:
			if c == '>' {
				x.state = xmlProlog
			}
		case xmlName:
			if strings.IndexByte(space+"/>", c) < 0 {
				if x.name = append(x.name, c); len(x.name) > maxRootName {
					return refuse("not XML: a root element name longer than %d bytes", maxRootName)
				}
				continue
			}
			if err := x.checkRoot(root); err != nil {
				return err
			}
			x.state, x.prev = xmlTag, 0
			if c == '>' {
				x.state = xmlContent
			}
			x.prev = c
		case xmlTag:
			switch {
			case x.quote != 0:
				if c == x.quote {
					x.quote = 0
				}
			case c == '"', c == '\'':
				x.quote = c
			case c == '>':
				x.state, x.selfClose = xmlContent, x.prev == '/'
			}
			x.prev = c
		}
	}
	return nil
}

// checkRoot tells why the root element is not that of an answer.
func (x *xmlScan) checkRoot(root string) *answerError {
	name := string(x.name)
	local := name[strings.LastIndexByte(name, ':')+1:]
	switch {
	case strings.EqualFold(local, "html"):
		return refuse("an HTML page, not an answer")
	case root != "" && local != root:
		return refuse("root element <%s>, want <%s>", name, root)
	}
	return nil
}

// whole tells why an answer whose last bytes are tail is not a whole XML
// document: its root element must be closed at its end.
func (x *xmlScan) whole(tail []byte) *answerError {
	switch {
	case x.state != xmlContent:
		return refuse("cut before the root element's start tag ends")
	case x.selfClose:
		return nil
	}
	t := bytes.TrimRight(tail, space)
	if end, ok := bytes.CutSuffix(t, []byte(">")); ok && bytes.HasSuffix(bytes.TrimRight(end, space), []byte("</"+string(x.name))) {
		return nil
	}
	return refuse("cut before </%s>", x.name)
}

// jsonScan follows a JSON answer as it streams by: the nesting of objects
// and arrays outside strings.
type jsonScan struct {
	depth    int
	inString bool
	escaped  bool
}

func (j *jsonScan) scan(p []byte) *answerError {
	for _, c := range p {
		switch {
		case j.escaped:
			j.escaped = false
		case j.inString:
			switch c {
			case '\\':
				j.escaped = true
			case '"':
				j.inString = false
			}
		case c == '"':
			j.inString = true
		case c == '{', c == '[':
			j.depth++
		case c == '}', c == ']':
			if j.depth--; j.depth < 0 {
				return refuse("not JSON: %q closes nothing", c)
			}
		}
	}
	return nil
}

// whole tells why a JSON answer read to its end is not a whole value.
func (j *jsonScan) whole() *answerError {
	switch {
	case j.inString:
		return refuse("cut in a JSON string")
	case j.depth > 0:
		return refuse("cut at JSON nesting depth %d", j.depth)
	}
	return nil
}
