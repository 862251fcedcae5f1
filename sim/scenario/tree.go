package scenario

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// node is a format-independent document tree with positions. YAML and JSON
// are read into it from yaml.v3's Node tree (which keeps lines), TOML from
// viper's settings (which do not), overrides from their own text.
type node struct {
	kind nodeKind
	// file and line locate the node; line is 0 when unknown.
	file string
	line int
	// val is the leaf value of a scalar node.
	val scalar
	// pairs are the entries of a map node, in document order.
	pairs []pair
	// items are the elements of a seq node.
	items []*node
}

type nodeKind int

const (
	scalarNode nodeKind = iota
	mapNode
	seqNode
)

type pair struct {
	key string
	// line is the key's line.
	line int
	val  *node
}

func (n *node) get(key string) (*node, bool) {
	for _, p := range n.pairs {
		if p.key == key {
			return p.val, true
		}
	}
	return nil, false
}

// set replaces or appends a map entry.
func (n *node) set(key string, line int, v *node) {
	for i := range n.pairs {
		if n.pairs[i].key == key {
			n.pairs[i].val = v
			n.pairs[i].line = line
			return
		}
	}
	n.pairs = append(n.pairs, pair{key: key, line: line, val: v})
}

func (k nodeKind) String() string {
	switch k {
	case mapNode:
		return "a mapping"
	case seqNode:
		return "a list"
	}
	return "a value"
}

// maxNodes bounds the size of a document after alias expansion, so a
// "billion laughs" file fails cleanly instead of exhausting memory.
const maxNodes = 200_000

// fromYAML converts a parsed YAML document, expanding aliases and merge
// keys and rejecting duplicate keys.
type yamlConverter struct {
	file  string
	count int
	errs  Errors
	// active holds the alias targets being expanded, to stop cycles.
	active map[*yaml.Node]bool
}

func (c *yamlConverter) errorf(line int, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{File: c.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (c *yamlConverter) convert(y *yaml.Node) *node {
	c.count++
	if c.count > maxNodes {
		if c.count == maxNodes+1 {
			c.errorf(y.Line, "document too large (more than %d values after expanding aliases)", maxNodes)
		}
		return nil
	}
	switch y.Kind {
	case 0: // an empty input
		return &node{kind: mapNode, file: c.file}
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			return &node{kind: mapNode, file: c.file, line: y.Line}
		}
		return c.convert(y.Content[0])
	case yaml.AliasNode:
		if y.Alias == nil || c.active[y.Alias] {
			c.errorf(y.Line, "alias *%s refers to itself", y.Value)
			return nil
		}
		c.active[y.Alias] = true
		n := c.convert(y.Alias)
		delete(c.active, y.Alias)
		return n
	case yaml.ScalarNode:
		return &node{kind: scalarNode, file: c.file, line: y.Line, val: yamlScalar(y)}
	case yaml.SequenceNode:
		n := &node{kind: seqNode, file: c.file, line: y.Line, items: make([]*node, 0, len(y.Content))}
		for _, it := range y.Content {
			if v := c.convert(it); v != nil {
				n.items = append(n.items, v)
			}
		}
		return n
	case yaml.MappingNode:
		n := &node{kind: mapNode, file: c.file, line: y.Line}
		explicit := map[string]int{}
		var merged []pair
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, v := y.Content[i], y.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "!!merge" || k.Tag == "") {
				merged = append(merged, c.merge(v)...)
				continue
			}
			if k.Kind != yaml.ScalarNode {
				c.errorf(k.Line, "a key must be a plain name, not %s", kindOf(k))
				continue
			}
			if first, dup := explicit[k.Value]; dup {
				c.errorf(k.Line, "key %q appears twice (first on line %d); remove one", k.Value, first)
				continue
			}
			explicit[k.Value] = k.Line
			if val := c.convert(v); val != nil {
				n.pairs = append(n.pairs, pair{key: k.Value, line: k.Line, val: val})
			}
		}
		for _, p := range merged {
			if _, ok := explicit[p.key]; !ok {
				explicit[p.key] = p.line
				n.pairs = append(n.pairs, p)
			}
		}
		return n
	}
	c.errorf(y.Line, "unsupported YAML node")
	return nil
}

// merge returns the entries a "<<" key brings in.
func (c *yamlConverter) merge(v *yaml.Node) []pair {
	var srcs []*yaml.Node
	if v.Kind == yaml.SequenceNode {
		srcs = v.Content
	} else {
		srcs = []*yaml.Node{v}
	}
	var out []pair
	for _, s := range srcs {
		m := c.convert(s)
		if m == nil {
			continue
		}
		if m.kind != mapNode {
			c.errorf(s.Line, "a merge key (<<) needs a mapping or a list of mappings")
			continue
		}
		out = append(out, m.pairs...)
	}
	return out
}

func kindOf(y *yaml.Node) string {
	switch y.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return "a value"
}

func yamlScalar(y *yaml.Node) scalar {
	s := yamlScalarValue(y)
	s.raw = y.Value
	return s
}

func yamlScalarValue(y *yaml.Node) scalar {
	switch y.ShortTag() {
	case "!!int":
		// Normalize so later strconv calls accept every YAML spelling.
		var i int64
		if err := y.Decode(&i); err == nil {
			return scalar{tag: "int", text: strconv.FormatInt(i, 10)}
		}
		var u uint64
		if err := y.Decode(&u); err == nil {
			return scalar{tag: "int", text: strconv.FormatUint(u, 10)}
		}
		return scalar{tag: "float", text: y.Value}
	case "!!float":
		var f float64
		if err := y.Decode(&f); err == nil {
			return scalar{tag: "float", text: strconv.FormatFloat(f, 'g', -1, 64)}
		}
		return scalar{tag: "str", text: y.Value}
	case "!!bool":
		var b bool
		if err := y.Decode(&b); err == nil {
			return scalar{tag: "bool", text: strconv.FormatBool(b)}
		}
	case "!!null":
		return scalar{tag: "null", text: y.Value}
	}
	return scalar{tag: "str", text: y.Value}
}

// addLines sets the lines of a tree read without positions from a map of
// field paths to lines.
func addLines(n *node, path string, lines map[string]int) {
	n.line = lines[path]
	for i := range n.pairs {
		p := joinPath(path, n.pairs[i].key)
		n.pairs[i].line = lines[p]
		addLines(n.pairs[i].val, p, lines)
	}
	for i, it := range n.items {
		addLines(it, fmt.Sprintf("%s[%d]", path, i), lines)
	}
}

// fromValue converts a decoded generic value (TOML via viper, environment)
// into a node without line information.
func fromValue(file string, v any, depth int) (*node, error) {
	if depth > 100 {
		return nil, fmt.Errorf("document nested too deeply")
	}
	switch x := v.(type) {
	case nil:
		return &node{kind: scalarNode, file: file, val: scalar{tag: "null"}}, nil
	case map[string]any:
		n := &node{kind: mapNode, file: file}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c, err := fromValue(file, x[k], depth+1)
			if err != nil {
				return nil, err
			}
			n.pairs = append(n.pairs, pair{key: k, val: c})
		}
		return n, nil
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = e
		}
		return fromValue(file, m, depth)
	case []any:
		n := &node{kind: seqNode, file: file}
		for _, e := range x {
			c, err := fromValue(file, e, depth+1)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, c)
		}
		return n, nil
	case []map[string]any:
		n := &node{kind: seqNode, file: file}
		for _, e := range x {
			c, err := fromValue(file, e, depth+1)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, c)
		}
		return n, nil
	case string:
		return &node{kind: scalarNode, file: file, val: scalar{tag: "str", text: x}}, nil
	case bool:
		return &node{kind: scalarNode, file: file, val: scalar{tag: "bool", text: strconv.FormatBool(x)}}, nil
	case int:
		return &node{kind: scalarNode, file: file, val: scalar{tag: "int", text: strconv.Itoa(x)}}, nil
	case int64:
		return &node{kind: scalarNode, file: file, val: scalar{tag: "int", text: strconv.FormatInt(x, 10)}}, nil
	case uint64:
		return &node{kind: scalarNode, file: file, val: scalar{tag: "int", text: strconv.FormatUint(x, 10)}}, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return &node{kind: scalarNode, file: file, val: scalar{tag: "str", text: strconv.FormatFloat(x, 'g', -1, 64)}}, nil
		}
		return &node{kind: scalarNode, file: file, val: scalar{tag: "float", text: strconv.FormatFloat(x, 'g', -1, 64)}}, nil
	case time.Time:
		return &node{kind: scalarNode, file: file, val: scalar{tag: "str", text: x.Format(time.RFC3339)}}, nil
	case fmt.Stringer:
		return &node{kind: scalarNode, file: file, val: scalar{tag: "str", text: x.String()}}, nil
	}
	return &node{kind: scalarNode, file: file, val: scalar{tag: "str", text: strings.TrimSpace(fmt.Sprint(v))}}, nil
}
