package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"reflect"

	"github.com/spf13/viper"
	"gopkg.in/yaml.v3"
)

// EnvPrefix is the prefix of environment variables that override scenario
// settings (ESP8266SIM_SEED, ESP8266SIM_DURATION, …).
const EnvPrefix = "ESP8266SIM"

// envKeys are the settings the environment may override: the top-level
// scalars. Anything deeper is set with --set.
var envKeys = []string{"name", "description", "seed", "duration", "time_mode"}

// Overrides change a scenario after it is read and before it is decoded,
// so overridden values are checked exactly like values in the file. The
// environment is applied first, then Set in order.
type Overrides struct {
	// Set holds "key=value" assignments (the CLI's --set). The key is a
	// path of field names and list indexes: "seed", "boards[0].heap",
	// "links[1].loss". Index len(list), or "+", appends an element
	// ("forwards[+]=8080:esp1:80"). The value is
	// read as a YAML value: 42, true, "10s", [80, 443], {loss: 5}.
	Set []string
	// Env reads ESP8266SIM_NAME, ESP8266SIM_DESCRIPTION, ESP8266SIM_SEED,
	// ESP8266SIM_DURATION and ESP8266SIM_TIME_MODE from the process
	// environment (through viper).
	Env bool
}

// Load reads the scenario file at path, applies defaults and validates it.
// The format comes from the extension: .yaml/.yml, .toml or .json.
func Load(path string) (*Scenario, error) { return Overrides{}.Load(path) }

// Parse reads a scenario from data; name is its file name, used in
// messages and to resolve relative paths (against the operating system's
// file system). format is "yaml", "toml" or "json"; empty means "from the
// extension of name".
func Parse(name string, data []byte, format string) (*Scenario, error) {
	return Overrides{}.Parse(name, data, format)
}

// ParseFS reads the scenario at path inside fsys (an embedded directory,
// see MountFS); relative paths in it resolve inside fsys.
func ParseFS(fsys fs.FS, path string) (*Scenario, error) { return Overrides{}.ParseFS(fsys, path) }

// Load is the package Load with these overrides.
func (o Overrides) Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: "cannot read scenario: " + errText(err), Err: err}}
	}
	return o.parse(path, data, "", nil)
}

// Parse is the package Parse with these overrides.
func (o Overrides) Parse(name string, data []byte, format string) (*Scenario, error) {
	return o.parse(name, data, format, nil)
}

// ParseFS is the package ParseFS with these overrides.
func (o Overrides) ParseFS(fsys fs.FS, p string) (*Scenario, error) {
	data, err := fs.ReadFile(fsys, p)
	if err != nil {
		return nil, Errors{{File: p, Msg: "cannot read scenario: " + errText(err), Err: err}}
	}
	return o.parse(p, data, "", fsys)
}

func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func (o Overrides) parse(name string, data []byte, format string, fsys fs.FS) (*Scenario, error) {
	s, err := o.Decode(name, data, format)
	if err != nil {
		return nil, err
	}
	s.FS = fsys
	errs := s.resolveFiles()
	s.ApplyDefaults()
	errs = append(errs, AsErrors(s.Validate())...)
	if err := errorsOrNil(errs); err != nil {
		return nil, err
	}
	return s, nil
}

// Decode reads a scenario strictly, with the overrides applied, and does
// nothing else: no defaults, no file checks, no validation. Most callers
// want Load, Parse or ParseFS.
func (o Overrides) Decode(name string, data []byte, format string) (s *Scenario, err error) {
	// The parsers are third-party code fed untrusted bytes; a panic in one
	// of them must become an error, never a crash of the simulator.
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, Errors{{File: name, Msg: fmt.Sprintf("cannot parse scenario: parser failed: %v", r)}}
		}
	}()
	if format == "" {
		format = formatOf(name)
	}
	root, errs := readTree(name, data, format)
	if len(errs) > 0 {
		return nil, errorsOrNil(errs)
	}
	if root.kind != mapNode {
		return nil, Errors{{File: name, Line: root.line, Msg: "a scenario is a mapping of keys (name:, boards:, …), not " + describeNode(root)}}
	}
	if o.Env {
		errs = append(errs, applyEnv(root)...)
	}
	for _, kv := range o.Set {
		errs = append(errs, applySet(root, kv)...)
	}
	if len(errs) > 0 {
		return nil, errorsOrNil(errs)
	}
	s = &Scenario{}
	d := newDecoder()
	d.decode(root, reflect.ValueOf(s).Elem(), "", 0)
	if err := errorsOrNil(d.errs); err != nil {
		return nil, err
	}
	s.File = name
	s.lines = d.lines
	s.origins = d.origins
	return s, nil
}

func formatOf(name string) string {
	switch strings.ToLower(path.Ext(filepath.ToSlash(name))) {
	case ".toml":
		return "toml"
	case ".json":
		return "json"
	}
	return "yaml"
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// readTree parses data into a node tree. YAML and JSON (a subset of YAML)
// go through yaml.v3, whose tree keeps line numbers; TOML goes through
// viper, which does not.
func readTree(name string, data []byte, format string) (*node, Errors) {
	switch format {
	case "yaml", "yml", "json":
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			msg := strings.TrimPrefix(err.Error(), "yaml: ")
			line := 0
			if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
				line, _ = strconv.Atoi(m[1])
				msg = m[2]
			}
			return nil, Errors{{File: name, Line: line, Msg: fmt.Sprintf("not valid %s: %s", strings.ToUpper(format), msg), Err: err}}
		}
		c := &yamlConverter{file: name, active: map[*yaml.Node]bool{}}
		root := c.convert(&doc)
		if len(c.errs) > 0 {
			return nil, c.errs
		}
		if root == nil {
			return &node{kind: mapNode, file: name}, nil
		}
		return root, nil
	case "toml":
		v := viper.NewWithOptions(viper.KeyDelimiter("::"))
		v.SetConfigType("toml")
		if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
			return nil, Errors{{File: name, Msg: "not valid TOML: " + err.Error(), Err: err}}
		}
		root, err := fromValue(name, v.AllSettings(), 0)
		if err == nil {
			addLines(root, "", tomlLines(data))
		}
		if err != nil {
			return nil, Errors{{File: name, Msg: err.Error()}}
		}
		return root, nil
	}
	return nil, Errors{{File: name, Msg: fmt.Sprintf("unknown scenario format %q; use yaml, toml or json", format)}}
}

// applyEnv applies ESP8266SIM_* variables through viper.
func applyEnv(root *node) Errors {
	v := viper.New()
	v.SetEnvPrefix(EnvPrefix)
	var errs Errors
	for _, k := range envKeys {
		_ = v.BindEnv(k) // cannot fail with a key
		if !v.IsSet(k) {
			continue
		}
		src := "$" + EnvPrefix + "_" + strings.ToUpper(k)
		val := parseValue(src, v.GetString(k))
		root.set(k, 0, val)
	}
	return errs
}

// parseValue reads an override value as YAML, falling back to a plain
// string when it is not valid YAML.
func parseValue(src, text string) *node {
	str := &node{kind: scalarNode, file: src, val: scalar{tag: "str", text: text}}
	if strings.TrimSpace(text) == "" {
		return str
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return str
	}
	c := &yamlConverter{file: src, active: map[*yaml.Node]bool{}}
	n := c.convert(&doc)
	if n == nil || len(c.errs) > 0 {
		return str
	}
	setFile(n, src)
	return n
}

func setFile(n *node, file string) {
	n.file, n.line = file, 0
	for i := range n.pairs {
		n.pairs[i].line = 0
		setFile(n.pairs[i].val, file)
	}
	for _, it := range n.items {
		setFile(it, file)
	}
}

// applySet applies one "key=value" override to the tree.
func applySet(root *node, kv string) Errors {
	src := "--set " + kv
	key, value, ok := strings.Cut(kv, "=")
	if !ok {
		return Errors{{File: src, Msg: `an override is key=value, e.g. "boards[0].heap=20000"`}}
	}
	steps, err := parseKeyPath(strings.TrimSpace(key))
	if err != nil {
		return Errors{{File: src, Field: key, Msg: err.Error()}}
	}
	val := parseValue(src, value)
	cur := root
	walked := ""
	for i, st := range steps {
		last := i == len(steps)-1
		if st.key != "" {
			if cur.kind != mapNode {
				return Errors{{File: src, Field: walked, Msg: fmt.Sprintf("is %s, not a mapping; cannot set %q in it", cur.kind, st.key)}}
			}
			walked = joinPath(walked, st.key)
			if last {
				cur.set(st.key, 0, val)
				return nil
			}
			next, ok := cur.get(st.key)
			if !ok || (next.kind == scalarNode && next.val.tag == "null") {
				next = &node{kind: mapNode, file: src}
				if steps[i+1].key == "" {
					next.kind = seqNode
				}
				cur.set(st.key, 0, next)
			}
			cur = next
			continue
		}
		if cur.kind == seqNode && st.index == appendIndex {
			st.index = len(cur.items)
		}
		walked = fmt.Sprintf("%s[%d]", walked, st.index)
		if cur.kind != seqNode {
			return Errors{{File: src, Field: walked, Msg: fmt.Sprintf("the parent is %s, not a list", cur.kind)}}
		}
		switch {
		case st.index < len(cur.items):
			if last {
				cur.items[st.index] = val
				return nil
			}
		case st.index == len(cur.items):
			if last {
				cur.items = append(cur.items, val)
				return nil
			}
			cur.items = append(cur.items, &node{kind: mapNode, file: src})
		default:
			return Errors{{File: src, Field: walked, Msg: fmt.Sprintf("index %d is out of range: the list has %d entries (use index %d to append)", st.index, len(cur.items), len(cur.items))}}
		}
		cur = cur.items[st.index]
	}
	return nil
}

type keyStep struct {
	key string
	// index is a list index, or appendIndex for "[+]".
	index int
}

// appendIndex stands for "[+]": the element after the last.
const appendIndex = -1

var keyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`)

// parseKeyPath splits "boards[0].heap" into steps.
func parseKeyPath(p string) ([]keyStep, error) {
	bad := fmt.Errorf("bad key %q: write field names separated by dots, with list indexes in brackets, e.g. \"boards[0].heap\"", p)
	var steps []keyStep
	rest := p
	for rest != "" {
		k := keyRE.FindString(rest)
		if k == "" {
			return nil, bad
		}
		steps = append(steps, keyStep{key: k})
		rest = rest[len(k):]
		for strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, bad
			}
			i, err := strconv.Atoi(rest[1:end])
			if rest[1:end] == "+" {
				i, err = appendIndex, nil
			} else if err != nil || i < 0 || i > 1_000_000 {
				return nil, bad
			}
			steps = append(steps, keyStep{index: i})
			rest = rest[end+1:]
		}
		if rest != "" {
			if rest[0] != '.' || len(rest) == 1 {
				return nil, bad
			}
			rest = rest[1:]
		}
	}
	if len(steps) == 0 {
		return nil, bad
	}
	return steps, nil
}

// resolveFiles resolves every path in the scenario against the scenario
// file's directory and checks that each names a readable file.
func (s *Scenario) resolveFiles() Errors {
	var errs Errors
	check := func(field string, p *string) {
		if *p == "" {
			return
		}
		resolved, err := s.resolve(*p)
		if err == nil {
			var fi fs.FileInfo
			if s.FS != nil {
				fi, err = fs.Stat(s.FS, resolved)
			} else {
				fi, err = os.Stat(resolved)
			}
			if err == nil && fi.IsDir() {
				err = errors.New("is a directory")
			}
		}
		if err != nil {
			msg := fmt.Sprintf("file %q not found", *p)
			if !errors.Is(err, fs.ErrNotExist) {
				msg = fmt.Sprintf("file %q cannot be used: %s", *p, errText(err))
			}
			if resolved != "" && resolved != *p {
				msg += fmt.Sprintf(" (looked for %s)", resolved)
			}
			errs = append(errs, s.problem(field, msg+"; paths are relative to the scenario file"))
			return
		}
		*p = resolved
	}
	for i := range s.Boards {
		b := &s.Boards[i]
		check(fmt.Sprintf("boards[%d].script", i), &b.Script)
		for j := range b.Files {
			check(fmt.Sprintf("boards[%d].files[%d].from", i, j), &b.Files[j].From)
		}
	}
	hosts := func(list string, hs []Host) {
		for i := range hs {
			for _, site := range []struct {
				name string
				s    *Site
			}{{"http", hs[i].Services.HTTP}, {"https", hs[i].Services.HTTPS}} {
				if site.s == nil {
					continue
				}
				for j := range site.s.Pages {
					check(fmt.Sprintf("%s[%d].services.%s.pages[%d].file", list, i, site.name, j), &site.s.Pages[j].File)
				}
			}
		}
	}
	hosts("lan_peers", s.LANPeers)
	hosts("internet_hosts", s.InternetHosts)
	for i := range s.Expect {
		if d := s.Expect[i].Display; d != nil && d.PNG != "" {
			check(fmt.Sprintf("expect[%d].display.png", i), &d.PNG)
		}
	}
	return errs
}

// resolve turns a path written in the scenario into one for ReadFile.
func (s *Scenario) resolve(p string) (string, error) {
	if s.FS != nil {
		q := path.Join(path.Dir(s.File), p)
		if path.IsAbs(p) || !fs.ValidPath(q) {
			return "", fmt.Errorf("%w: the path leaves the embedded directory", fs.ErrNotExist)
		}
		return q, nil
	}
	if filepath.IsAbs(p) || s.File == "" {
		return filepath.Clean(p), nil
	}
	return filepath.Join(filepath.Dir(s.File), p), nil
}

// ReadFile reads a path of the scenario (a board's script, a flash file's
// From, a page's File) as resolved by the loader.
func (s *Scenario) ReadFile(p string) ([]byte, error) {
	if s.FS != nil {
		return fs.ReadFile(s.FS, p)
	}
	return os.ReadFile(p)
}
