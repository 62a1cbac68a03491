package httpdecl

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/tidwall/gjson"
)

// This file holds the small expression language of malicious and benign:
//
//	expr    = path [ "/" number | "*" number | cmp literal [ "?" number ] ]
//	cmp     = "==" | "!=" | ">" | ">=" | "<" | "<="
//	literal = number | "string" | 'string' | true | false | null
//
// path is a gjson path (https://github.com/tidwall/gjson/blob/master/SYNTAX.md)
// without spaces; the operator and its operands are separated from it by
// spaces. The value is clamped into [0,1]:
//
//	data.score / 100              a 0–100 score
//	data.confidence               a number already in [0,1], or a bool (1 or 0)
//	data.verdict == "malicious"   1 when equal, else 0
//	data.reports >= 5 ? 0.8       0.8 when at least five, else 0
//
// A path that is missing or null is 0: the source says nothing. A value of
// the wrong kind (an object where a number was expected) is a bad response.

// expr is one compiled signal expression.
type expr struct {
	path string
	op   string  // "", "/", "*" or a comparison
	num  float64 // divisor or factor
	lit  literal // comparison operand
	then float64 // value of a true comparison (1 unless "? n" is given)
}

// errOperand reports a value that does not fit the expression.
var errOperand = errors.New("not a number or a bool")

// parseExpr compiles s.
func parseExpr(s string) (*expr, error) {
	toks, err := tokens(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, errors.New("empty expression")
	}
	e := &expr{path: toks[0], then: 1}
	if err := checkPath(e.path); err != nil {
		return nil, err
	}
	if i := strings.IndexAny(outsideQueries(e.path), "/=<>!"); i >= 0 {
		return nil, fmt.Errorf("%q: put spaces around an operator", s)
	}
	switch {
	case len(toks) == 1:
		return e, nil
	case len(toks) == 3 && (toks[1] == "/" || toks[1] == "*"):
		n, err := strconv.ParseFloat(toks[2], 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) || (toks[1] == "/" && n == 0) {
			return nil, fmt.Errorf("%q: want a non-zero number after %s", s, toks[1])
		}
		e.op, e.num = toks[1], n
		return e, nil
	case (len(toks) == 3 || len(toks) == 5) && isCmp(toks[1]):
		lit, err := parseLiteral(toks[2])
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		if toks[1] != "==" && toks[1] != "!=" && lit.kind != litNum {
			return nil, fmt.Errorf("%q: %s compares numbers only", s, toks[1])
		}
		e.op, e.lit = toks[1], lit
		if len(toks) == 5 {
			n, err := strconv.ParseFloat(toks[4], 64)
			if toks[3] != "?" || err != nil || !(n >= 0 && n <= 1) {
				return nil, fmt.Errorf("%q: want \"? n\" with n in [0,1] after the comparison", s)
			}
			e.then = n
		}
		return e, nil
	}
	return nil, fmt.Errorf("%q: want PATH, PATH / N, PATH * N or PATH CMP VALUE [? N]", s)
}

func isCmp(op string) bool {
	switch op {
	case "==", "!=", ">", ">=", "<", "<=":
		return true
	}
	return false
}

// eval returns the expression's value for the JSON body, in [0,1].
func (e *expr) eval(body []byte) (float64, error) {
	r := gjson.GetBytes(body, e.path)
	var v float64
	switch e.op {
	case "":
		n, err := number(r)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", e.path, err)
		}
		v = n
	case "/", "*":
		n, err := number(r)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", e.path, err)
		}
		if e.op == "/" {
			v = n / e.num
		} else {
			v = n * e.num
		}
	default:
		if e.lit.compare(e.op, r) {
			v = e.then
		}
	}
	if math.IsNaN(v) {
		return 0, nil
	}
	return min(1, max(0, v)), nil
}

// number reads r as a number: missing and null are 0, booleans 1 or 0, a
// numeric string its number.
func number(r gjson.Result) (float64, error) {
	switch r.Type {
	case gjson.Null:
		return 0, nil
	case gjson.True:
		return 1, nil
	case gjson.False:
		return 0, nil
	case gjson.Number:
		return r.Num, nil
	case gjson.String:
		if n, err := strconv.ParseFloat(strings.TrimSpace(r.Str), 64); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%w: %s", errOperand, excerpt(r.Raw))
}

func excerpt(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}

// literal is the right-hand side of a comparison, or a rule's equals.
type literal struct {
	kind int
	s    string
	n    float64
	b    bool
}

const (
	litNull = iota
	litBool
	litNum
	litStr
)

// parseLiteral reads a literal as written in an expression.
func parseLiteral(tok string) (literal, error) {
	switch tok {
	case "null":
		return literal{kind: litNull}, nil
	case "true", "false":
		return literal{kind: litBool, b: tok == "true"}, nil
	}
	if len(tok) >= 2 && (tok[0] == '"' || tok[0] == '\'') && tok[len(tok)-1] == tok[0] {
		return literal{kind: litStr, s: tok[1 : len(tok)-1]}, nil
	}
	if n, err := strconv.ParseFloat(tok, 64); err == nil && !math.IsNaN(n) {
		return literal{kind: litNum, n: n}, nil
	}
	return literal{}, fmt.Errorf("%s: want a number, a quoted string, true, false or null", tok)
}

// yamlLiteral reads a literal given as a YAML value (a rule's equals).
func yamlLiteral(v any) (literal, error) {
	switch x := v.(type) {
	case nil:
		return literal{kind: litNull}, nil
	case bool:
		return literal{kind: litBool, b: x}, nil
	case string:
		return literal{kind: litStr, s: x}, nil
	case int:
		return literal{kind: litNum, n: float64(x)}, nil
	case int64:
		return literal{kind: litNum, n: float64(x)}, nil
	case uint64:
		return literal{kind: litNum, n: float64(x)}, nil
	case float64:
		return literal{kind: litNum, n: x}, nil
	}
	return literal{}, fmt.Errorf("want a string, a number, true, false or null, got %T", v)
}

// equal reports whether r holds the literal: null matches a missing value,
// a number matches a numeric string and a string a number written the same.
func (l literal) equal(r gjson.Result) bool {
	switch l.kind {
	case litNull:
		return r.Type == gjson.Null
	case litBool:
		return (r.Type == gjson.True && l.b) || (r.Type == gjson.False && !l.b)
	case litNum:
		n, ok := numeric(r)
		return ok && n == l.n
	}
	return (r.Type == gjson.String || r.Type == gjson.Number) && r.String() == l.s
}

// compare applies op to r (left) and the literal (right). An ordering of a
// value that is not a number is false.
func (l literal) compare(op string, r gjson.Result) bool {
	switch op {
	case "==":
		return l.equal(r)
	case "!=":
		return !l.equal(r)
	}
	n, ok := numeric(r)
	if !ok {
		return false
	}
	switch op {
	case ">":
		return n > l.n
	case ">=":
		return n >= l.n
	case "<":
		return n < l.n
	}
	return n <= l.n
}

func numeric(r gjson.Result) (float64, bool) {
	switch r.Type {
	case gjson.Number:
		return r.Num, true
	case gjson.String:
		n, err := strconv.ParseFloat(strings.TrimSpace(r.Str), 64)
		return n, err == nil
	}
	return 0, false
}

// truthy is a rule's test when it has a path but no equals: the value
// exists and is not null, false, 0, "", [] or {}.
func truthy(r gjson.Result) bool {
	switch r.Type {
	case gjson.Null, gjson.False:
		return false
	case gjson.Number:
		return r.Num != 0
	case gjson.String:
		return r.Str != ""
	case gjson.JSON:
		if r.IsArray() {
			return len(r.Array()) > 0
		}
		return len(r.Map()) > 0
	}
	return true
}

// tokens splits s at spaces, keeping a quoted string whole.
func tokens(s string) ([]string, error) {
	var out []string
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '"' || c == '\'':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("%q: unterminated string", s)
			}
			out = append(out, s[i:i+j+2])
			i += j + 2
		default:
			j := strings.IndexAny(s[i:], " \t")
			if j < 0 {
				j = len(s) - i
			}
			out = append(out, s[i:i+j])
			i += j
		}
	}
	return out, nil
}

// checkPath refuses a gjson path that cannot be what was meant: empty, with
// spaces, with unbalanced brackets or quotes, with an empty component, or
// naming a modifier gjson does not have. gjson itself never fails on a
// path; it finds nothing, which would read as "no signal" at every look-up.
func checkPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case strings.IndexFunc(p, unicode.IsSpace) >= 0:
		return fmt.Errorf("path %q: no spaces allowed", p)
	case strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") || strings.HasSuffix(p, "|") ||
		strings.Contains(outsideQueries(p), ".."):
		return fmt.Errorf("path %q: empty component", p)
	}
	var stack []byte
	var quote byte
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			i++
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"':
			quote = c
		case c == '(' || c == '[' || c == '{':
			stack = append(stack, c)
		case c == ')' || c == ']' || c == '}':
			open := map[byte]byte{')': '(', ']': '[', '}': '{'}[c]
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return fmt.Errorf("path %q: unbalanced %c", p, c)
			}
			stack = stack[:len(stack)-1]
		case c == '@' && (i == 0 || p[i-1] == '.' || p[i-1] == '|'):
			j := i + 1
			for j < len(p) && (p[j] == '_' || unicode.IsLetter(rune(p[j])) || unicode.IsDigit(rune(p[j]))) {
				j++
			}
			if name := p[i+1 : j]; !gjson.ModifierExists(name, nil) {
				return fmt.Errorf("path %q: no modifier @%s", p, name)
			}
		}
	}
	if quote != 0 || len(stack) > 0 {
		return fmt.Errorf("path %q: unbalanced quotes or brackets", p)
	}
	return nil
}

// outsideQueries returns p without its bracketed parts (#(...) queries,
// [..] and {..} selectors) and escaped characters, where operator
// characters and dots are part of the path syntax.
func outsideQueries(p string) string {
	var b strings.Builder
	depth := 0
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			i++
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}
