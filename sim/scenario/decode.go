package scenario

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// decoder reads a node tree into a Go value strictly: unknown keys, wrong
// types and bad values are errors naming the file, the line and the field.
// It keeps going after an error so that one run reports every problem.
type decoder struct {
	errs Errors
	// lines records the line of every field that was present.
	lines map[string]int
	// origins records fields whose value came from an override.
	origins map[string]string
}

func newDecoder() *decoder {
	return &decoder{lines: map[string]int{}, origins: map[string]string{}}
}

func (d *decoder) fail(n *node, line int, path, format string, args ...any) {
	if line == 0 {
		line = n.line
	}
	d.errs = append(d.errs, &FieldError{File: n.file, Line: line, Field: path, Msg: fmt.Sprintf(format, args...)})
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var (
	scalarDecoderType = reflect.TypeFor[scalarDecoder]()
	shorthandType     = reflect.TypeFor[shorthand]()
)

// decode reads n into v (addressable). keyLine is the line of the key that
// led to n, 0 for list elements and the root.
func (d *decoder) decode(n *node, v reflect.Value, path string, keyLine int) {
	line := keyLine
	if line == 0 {
		line = n.line
	}
	if path != "" {
		d.lines[path] = line
		if isOverride(n.file) {
			d.origins[path] = n.file
		}
	}
	if n.kind == scalarNode && n.val.tag == "null" {
		v.SetZero()
		return
	}
	pv := v.Addr()
	if pv.Type().Implements(scalarDecoderType) {
		if n.kind != scalarNode {
			d.fail(n, line, path, "want a single value, got %s", n.kind)
			return
		}
		if err := pv.Interface().(scalarDecoder).decodeScalar(n.val); err != nil {
			d.fail(n, line, path, "%s", err.Error())
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		e := reflect.New(v.Type().Elem())
		d.decode(n, e.Elem(), path, keyLine)
		v.Set(e)
	case reflect.Struct:
		if n.kind == scalarNode && pv.Type().Implements(shorthandType) {
			if err := pv.Interface().(shorthand).fromScalar(n.val); err != nil {
				d.fail(n, line, path, "%s", err.Error())
			}
			return
		}
		if n.kind != mapNode {
			d.fail(n, line, path, "want a mapping with keys %s, got %s", strings.Join(fieldsOf(v.Type()).names, ", "), describeNode(n))
			return
		}
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.kind != seqNode {
			d.fail(n, line, path, "want a list, got %s", describeNode(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.items), len(n.items))
		for i, it := range n.items {
			d.decode(it, s.Index(i), fmt.Sprintf("%s[%d]", path, i), 0)
		}
		v.Set(s)
	case reflect.String:
		if n.kind != scalarNode {
			d.fail(n, line, path, "want a string, got %s", n.kind)
			return
		}
		raw := n.val.raw
		if raw == "" || n.val.tag == "str" {
			raw = n.val.text
		}
		v.SetString(raw)
	case reflect.Bool:
		if n.kind != scalarNode || n.val.tag != "bool" {
			d.fail(n, line, path, "want true or false, got %s", describeNode(n))
			return
		}
		v.SetBool(n.val.text == "true")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(n.val.text, 10, 64)
		if n.kind != scalarNode || n.val.tag != "int" || err != nil || v.OverflowInt(i) {
			d.fail(n, line, path, "want an integer, got %s", describeNode(n))
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := strconv.ParseUint(n.val.text, 10, 64)
		if n.kind != scalarNode || n.val.tag != "int" || err != nil || v.OverflowUint(u) {
			d.fail(n, line, path, "want a whole number (0 or more), got %s", describeNode(n))
			return
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(n.val.text, 64)
		if n.kind != scalarNode || (n.val.tag != "int" && n.val.tag != "float") || err != nil {
			d.fail(n, line, path, "want a number, got %s", describeNode(n))
			return
		}
		v.SetFloat(f)
	default:
		d.fail(n, line, path, "cannot read a value of type %s", v.Type())
	}
}

func describeNode(n *node) string {
	if n.kind == scalarNode {
		return n.val.describe()
	}
	return n.kind.String()
}

func isOverride(file string) bool {
	return strings.HasPrefix(file, "--set") || strings.HasPrefix(file, "$")
}

func (d *decoder) decodeStruct(n *node, v reflect.Value, path string) {
	fs := fieldsOf(v.Type())
	seen := map[int]string{}
	for _, p := range n.pairs {
		f, ok := fs.byKey[p.key]
		if !ok {
			d.fail(p.val, p.line, joinPath(path, p.key), "unknown key %q%s", p.key, suggest(p.key, fs.names))
			continue
		}
		if other, dup := seen[f.id]; dup {
			d.fail(p.val, p.line, joinPath(path, p.key), "%q and %q are the same setting; keep one", other, p.key)
			continue
		}
		seen[f.id] = p.key
		fv := v.FieldByIndex(f.index)
		d.decode(p.val, fv, joinPath(path, f.name), p.line)
	}
}

// field is one settable key of a struct.
type field struct {
	// id is shared by a field's name and its aliases.
	id    int
	name  string
	index []int
}

type fieldSet struct {
	byKey map[string]field
	// names are the canonical keys in declaration order.
	names []string
}

var fieldCache sync.Map // reflect.Type → *fieldSet

// fieldsOf lists the keys of a struct type: json tag names, "alias" tag
// names, and the keys of embedded structs inline.
func fieldsOf(t reflect.Type) *fieldSet {
	if c, ok := fieldCache.Load(t); ok {
		return c.(*fieldSet)
	}
	fs := &fieldSet{byKey: map[string]field{}}
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			sf := t.Field(i)
			idx := append(append([]int(nil), index...), i)
			tag := sf.Tag.Get("json")
			if sf.Anonymous && tag == "" && sf.Type.Kind() == reflect.Struct {
				walk(sf.Type, idx)
				continue
			}
			if !sf.IsExported() || tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if name == "" {
				name = sf.Name
			}
			f := field{id: len(fs.names), name: name, index: idx}
			fs.byKey[name] = f
			fs.names = append(fs.names, name)
			if a := sf.Tag.Get("alias"); a != "" {
				fs.byKey[a] = f
			}
		}
	}
	walk(t, nil)
	fieldCache.Store(t, fs)
	return fs
}

// suggest returns ` (did you mean "x"?)` for a near miss, or the list of
// valid keys.
func suggest(key string, valid []string) string {
	best, bestD := "", 1<<30
	for _, v := range valid {
		if d := editDistance(strings.ToLower(key), v); d < bestD {
			best, bestD = v, d
		}
	}
	if best != "" && (bestD <= 2 && bestD < len(key) || strings.EqualFold(best, key)) {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	sorted := append([]string(nil), valid...)
	sort.Strings(sorted)
	return "; valid keys are " + strings.Join(sorted, ", ")
}

// editDistance is the optimal-string-alignment distance: insertions,
// deletions, substitutions and transpositions of neighbours cost one.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 20
	}
	rows := [3][]int{make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)}
	for j := range rows[1] {
		rows[1][j] = j
	}
	for i := 1; i <= len(a); i++ {
		pp, prev, cur := rows[0], rows[1], rows[2]
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], pp[j-2]+1)
			}
		}
		rows[0], rows[1], rows[2] = prev, cur, pp
	}
	return rows[1][len(b)]
}
