package scenario

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// tomlLines maps the field paths of a TOML document ("boards[1].heap",
// lowercased like viper's keys) to their lines, so TOML errors can name a
// line too. viper decodes the values; this only walks go-toml's syntax
// tree for positions. It never fails: on any surprise it returns what it
// has, and errors simply lose their line.
func tomlLines(data []byte) (lines map[string]int) {
	lines = map[string]int{}
	defer func() {
		if recover() != nil {
			// Positions are a nicety; the values come from viper.
			return
		}
	}()
	w := &tomlWalker{data: data, lines: lines, arrays: map[string]int{}}
	var p unstable.Parser
	p.Reset(data)
	for p.NextExpression() {
		w.expression(p.Expression())
	}
	return lines
}

type tomlWalker struct {
	data  []byte
	lines map[string]int
	// arrays holds the index of the last element of each array of tables,
	// by resolved path.
	arrays map[string]int
	// table is the resolved path of the current [table].
	table string
}

func (w *tomlWalker) line(n *unstable.Node) int {
	if n == nil || (n.Raw.Offset == 0 && n.Raw.Length == 0) || int(n.Raw.Offset) > len(w.data) {
		return 0
	}
	return bytes.Count(w.data[:n.Raw.Offset], []byte{'\n'}) + 1
}

// resolve extends base by dotted key parts, stepping into the current
// element of arrays of tables.
func (w *tomlWalker) resolve(base string, parts []string) string {
	cur := base
	for _, k := range parts {
		cur = joinPath(cur, strings.ToLower(k))
		if i, ok := w.arrays[cur]; ok {
			cur = fmt.Sprintf("%s[%d]", cur, i)
		}
	}
	return cur
}

func keyParts(it unstable.Iterator) ([]string, *unstable.Node) {
	var parts []string
	var first *unstable.Node
	for it.Next() {
		n := it.Node()
		if first == nil {
			first = n
		}
		parts = append(parts, string(n.Data))
	}
	return parts, first
}

func (w *tomlWalker) expression(e *unstable.Node) {
	switch e.Kind {
	case unstable.Table:
		parts, k := keyParts(e.Key())
		w.table = w.resolve("", parts)
		w.lines[w.table] = w.line(k)
	case unstable.ArrayTable:
		parts, k := keyParts(e.Key())
		if len(parts) == 0 {
			return
		}
		parent := w.resolve("", parts[:len(parts)-1])
		full := joinPath(parent, strings.ToLower(parts[len(parts)-1]))
		i, seen := w.arrays[full]
		if seen {
			i++
		}
		w.arrays[full] = i
		w.table = fmt.Sprintf("%s[%d]", full, i)
		if _, ok := w.lines[full]; !ok {
			w.lines[full] = w.line(k)
		}
		w.lines[w.table] = w.line(k)
	case unstable.KeyValue:
		w.keyValue(w.table, e)
	}
}

func (w *tomlWalker) keyValue(base string, kv *unstable.Node) {
	parts, k := keyParts(kv.Key())
	path := w.resolve(base, parts)
	line := w.line(k)
	w.lines[path] = line
	w.value(path, kv.Value(), line)
}

func (w *tomlWalker) value(path string, v *unstable.Node, line int) {
	if v == nil {
		return
	}
	switch v.Kind {
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			if c := it.Node(); c.Kind == unstable.KeyValue {
				w.keyValue(path, c)
			}
		}
	case unstable.Array:
		it := v.Children()
		i := 0
		for it.Next() {
			c := it.Node()
			if c.Kind == unstable.Comment {
				continue
			}
			p := fmt.Sprintf("%s[%d]", path, i)
			l := w.line(c)
			if l == 0 {
				l = line
			}
			w.lines[p] = l
			w.value(p, c, l)
			i++
		}
	}
}
