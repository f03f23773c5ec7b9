package clickhouse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// client speaks ClickHouse's HTTP interface, which every release since
// before 18.16 serves the same way. Queries go in the request body,
// settings in the URL; ClickHouse 18.16 has no bound query parameters,
// so values enter SQL only as literals made by quote.
type client struct {
	http     *http.Client
	base     string // http://host:port, without a trailing slash
	user     string
	password string
	database string
}

// Error is an exception ClickHouse returned.
type Error struct {
	Code    int    // ClickHouse's error code; 0 when unknown
	Message string // as the server wrote it, trimmed
}

func (e *Error) Error() string { return e.Message }

// codeRE finds the code of an exception as 18.16 ("Code: 62, e.displayText()
// = DB::Exception: ...") and current releases ("Code: 62. DB::Exception:
// ...") write it.
var codeRE = regexp.MustCompile(`^Code: (\d+)[.,]`)

// do sends query with settings and returns the response body; a body
// when the query is an INSERT ... FORMAT, sent after it.
func (c *client) do(ctx context.Context, query string, settings url.Values, data io.Reader) (io.ReadCloser, error) {
	params := url.Values{}
	if c.database != "" {
		params.Set("database", c.database)
	}
	for k, vs := range settings {
		params[k] = vs
	}
	var body io.Reader = strings.NewReader(query)
	if data != nil {
		// The statement goes in the URL, the rows in the body.
		params.Set("query", query)
		body = data
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/?"+params.Encode(), body)
	if err != nil {
		return nil, err
	}
	if c.user != "" {
		req.Header.Set("X-ClickHouse-User", c.user)
		req.Header.Set("X-ClickHouse-Key", c.password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return nil, exception(b, resp.StatusCode)
	}
	return resp.Body, nil
}

func exception(b []byte, status int) *Error {
	msg := strings.TrimSpace(string(b))
	if msg == "" {
		msg = fmt.Sprintf("HTTP status %d", status)
	}
	e := &Error{Message: msg}
	if m := codeRE.FindStringSubmatch(msg); m != nil {
		e.Code, _ = strconv.Atoi(m[1])
	}
	return e
}

// exec runs a statement that returns nothing.
func (c *client) exec(ctx context.Context, query string, settings url.Values) error {
	body, err := c.do(ctx, query, settings, nil)
	if err != nil {
		return err
	}
	defer body.Close()
	_, err = io.Copy(io.Discard, body)
	return err
}

// insert runs INSERT INTO table (cols) FORMAT format with rows, encoded
// in that format (TabSeparated or RowBinary).
func (c *client) insert(ctx context.Context, table string, cols []string, format string, rows []byte) error {
	return c.insertFrom(ctx, table, cols, format, bytes.NewReader(rows))
}

// insertFrom is insert with rows read from r as they come: the server
// parses them while they are made.
func (c *client) insertFrom(ctx context.Context, table string, cols []string, format string, r io.Reader) error {
	q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") FORMAT " + format
	body, err := c.do(ctx, q, nil, r)
	if err != nil {
		return err
	}
	defer body.Close()
	_, err = io.Copy(io.Discard, body)
	return err
}

// result is a query's answer in FORMAT JSONCompact, numbers kept as
// json.Number.
type result struct {
	Meta []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"meta"`
	Data [][]any `json:"data"`
}

// query runs a SELECT and returns its rows. 64-bit integers come as JSON
// numbers, decoded exactly.
func (c *client) query(ctx context.Context, query string, settings url.Values) (*result, error) {
	s := url.Values{"output_format_json_quote_64bit_integers": {"0"}}
	for k, vs := range settings {
		s[k] = vs
	}
	body, err := c.do(ctx, query+"\nFORMAT JSONCompact", s, nil)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var r result
	if err := dec.Decode(&r); err != nil {
		// An exception after the first bytes is appended to the body.
		if i := bytes.LastIndex(b, []byte("Code: ")); i >= 0 {
			return nil, exception(b[i:], http.StatusOK)
		}
		return nil, fmt.Errorf("decode result: %w", err)
	}
	return &r, nil
}

// column returns the first column of a query's rows as text.
func (c *client) strings(ctx context.Context, query string) ([]string, error) {
	r, err := c.query(ctx, query, nil)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(r.Data))
	for _, row := range r.Data {
		if len(row) == 0 {
			return nil, errors.New("query returned no columns")
		}
		out = append(out, fmt.Sprint(row[0]))
	}
	return out, nil
}

// quote returns s as a ClickHouse string literal. Inside single quotes
// ClickHouse reads backslash escapes, so backslashes and quotes are
// escaped; every other byte, NUL and invalid UTF-8 included, is written
// as \xNN when it is not printable ASCII, so that the literal is plain
// ASCII whatever s holds.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\x%02X`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// identRE is what a database name may be: it is written into DDL as is.
var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// tsvEscaper escapes a value for TabSeparated.
var tsvEscaper = strings.NewReplacer("\\", "\\\\", "\t", "\\t", "\n", "\\n", "\r", "\\r", "\x00", "\\0")
