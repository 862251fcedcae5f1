package scenario

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// API is an HTTP API endpoint (services http_api and https_api): answers
// chosen by method and path, with a JSON body, a status, headers, or an
// echo of the request.
type API struct {
	// Port is the TCP port; default 80 for http_api, 443 for https_api.
	Port int `json:"port,omitempty"`
	// Routes are tried in order; the first whose method and path match
	// answers. Another method on a known path answers 405, an unknown
	// path 404, both with a JSON error.
	Routes []Route `json:"routes,omitempty"`
}

// Route is one answer of an API.
type Route struct {
	// Method is GET, POST, PUT, DELETE, HEAD, PATCH…; empty: any.
	Method string `json:"method,omitempty"`
	// Path is the URL path, starting with "/"; a trailing "*" matches
	// every path with that prefix.
	Path string `json:"path"`
	// Status is the HTTP status code; default 200.
	Status int `json:"status,omitempty"`
	// JSON is the answer's body, JSON text. At most one of json, body,
	// file and echo is set.
	JSON string `json:"json,omitempty"`
	// Body is the answer's body, any text.
	Body string `json:"body,omitempty"`
	// File is a file with the answer's body, relative to the scenario.
	File string `json:"file,omitempty"`
	// Echo answers with a JSON description of the request: method, path,
	// args, headers, data, json, origin (like httpbin.org).
	Echo bool `json:"echo,omitempty"`
	// ContentType is the Content-Type; default application/json.
	ContentType string `json:"content_type,omitempty"`
	// Headers are extra response headers, each "Name: value".
	Headers []string `json:"headers,omitempty"`
	// Location is sent as the Location header (with a 3xx status, a
	// redirect).
	Location string `json:"location,omitempty"`
	// Chunked sends the body with Transfer-Encoding: chunked.
	Chunked bool `json:"chunked,omitempty"`
}

// Broker is an MQTT 3.1.1 broker (service mqtt).
type Broker struct {
	// Port is the TCP port; default 1883.
	Port int `json:"port,omitempty"`
	// Username and Password, when set, are required of every client
	// (CONNACK 4 otherwise).
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// Publish are messages the broker publishes itself, as another client
	// would (commands for the board).
	Publish []BrokerPublish `json:"publish,omitempty"`
}

// BrokerPublish is one message a broker publishes at a given time.
type BrokerPublish struct {
	// At is the simulator time of the publication.
	At Duration `json:"at,omitempty"`
	// Topic and Payload are the message.
	Topic   string `json:"topic"`
	Payload string `json:"payload,omitempty"`
	// Retain keeps the message for later subscribers.
	Retain bool `json:"retain,omitempty"`
	// QoS is 0 or 1.
	QoS int `json:"qos,omitempty"`
}

// MIPIndex is a mip package index, served over HTTPS below /pi/v2 as
// micropython.org serves it.
type MIPIndex struct {
	// Port is the TCP port; default 443.
	Port int `json:"port,omitempty"`
	// Packages are what the index offers; for a name listed more than once
	// the last is "latest".
	Packages []MIPPackage `json:"packages,omitempty"`
}

// MIPPackage is one version of a package.
type MIPPackage struct {
	// Name is what mip.install is given.
	Name string `json:"name"`
	// Version is the package's version; default "1.0.0".
	Version string `json:"version,omitempty"`
	// Files are installed below the target (/lib).
	Files []MIPFile `json:"files,omitempty"`
	// Deps are packages installed with it, "name" or "name@version".
	Deps []string `json:"deps,omitempty"`
}

// MIPFile is one file of a package.
type MIPFile struct {
	// Path is relative to the install target, e.g. "blink.py" or
	// "sensors/__init__.py".
	Path string `json:"path"`
	// Content is the file's text, inline. Exactly one of Content and File.
	Content string `json:"content,omitempty"`
	// File is a file with the content, relative to the scenario file.
	File string `json:"file,omitempty"`
}

// HTTPRequested expects a host's HTTP API to have received a request.
type HTTPRequested struct {
	// Host is the internet host or LAN peer running the API.
	Host string `json:"host"`
	// Method, when set, must equal the request's method.
	Method string `json:"method,omitempty"`
	// Path, when set, must equal the request's path.
	Path string `json:"path,omitempty"`
	// Body, when set, must appear in the request's body.
	Body string `json:"body,omitempty"`
	// BodyMatches, when set, must match the body (Go RE2 syntax).
	BodyMatches string `json:"body_matches,omitempty"`
}

// MQTTPublished expects a broker to have received a publication.
type MQTTPublished struct {
	// Broker is the internet host or LAN peer running the broker.
	Broker string `json:"broker"`
	// Topic must equal the message's topic.
	Topic string `json:"topic"`
	// Payload, when set, must appear in the payload.
	Payload string `json:"payload,omitempty"`
	// PayloadMatches, when set, must match the payload (Go RE2 syntax).
	PayloadMatches string `json:"payload_matches,omitempty"`
	// Count is how many such messages must arrive; default 1.
	Count int `json:"count,omitempty"`
}

func (s *Services) netlibDefaults() {
	for _, a := range []struct {
		api  *API
		port int
	}{{s.HTTPAPI, 80}, {s.HTTPSAPI, 443}} {
		if a.api == nil {
			continue
		}
		if a.api.Port == 0 {
			a.api.Port = a.port
		}
		for i := range a.api.Routes {
			r := &a.api.Routes[i]
			if r.Status == 0 {
				r.Status = 200
			}
			if r.ContentType == "" {
				r.ContentType = "application/json"
			}
		}
	}
	if s.MQTT != nil && s.MQTT.Port == 0 {
		s.MQTT.Port = 1883
	}
	if s.MIP != nil {
		if s.MIP.Port == 0 {
			s.MIP.Port = 443
		}
		for i := range s.MIP.Packages {
			if s.MIP.Packages[i].Version == "" {
				s.MIP.Packages[i].Version = "1.0.0"
			}
		}
	}
}

// netlibServices validates the API and broker services; claim reserves a
// TCP port.
func (v *validator) netlibServices(f string, sv *Services, claim func(field string, port int)) {
	for _, a := range []struct {
		name string
		api  *API
	}{{"http_api", sv.HTTPAPI}, {"https_api", sv.HTTPSAPI}} {
		if a.api == nil {
			continue
		}
		af := f + "." + a.name
		claim(af+".port", a.api.Port)
		for j, r := range a.api.Routes {
			rf := fmt.Sprintf("%s.routes[%d]", af, j)
			if !strings.HasPrefix(r.Path, "/") {
				v.errf(rf+".path", "%q: a URL path starts with /", r.Path)
			}
			if r.Status < 100 || r.Status > 599 {
				v.errf(rf+".status", "%d is not an HTTP status; use 100 to 599", r.Status)
			}
			n := 0
			for _, set := range []bool{r.JSON != "", r.Body != "", r.File != "", r.Echo} {
				if set {
					n++
				}
			}
			if n > 1 {
				v.errf(rf, "set at most one of json, body, file and echo")
			}
			for k, h := range r.Headers {
				if name, _, ok := strings.Cut(h, ":"); !ok || strings.TrimSpace(name) == "" {
					v.errf(fmt.Sprintf("%s.headers[%d]", rf, k), "%q: write a header as \"Name: value\"", h)
				}
			}
		}
	}
	if m := sv.MIP; m != nil {
		v.mipIndex(f+".mip", m, claim)
	}
	if b := sv.MQTT; b != nil {
		bf := f + ".mqtt"
		claim(bf+".port", b.Port)
		for j, p := range b.Publish {
			pf := fmt.Sprintf("%s.publish[%d]", bf, j)
			if p.Topic == "" || strings.ContainsAny(p.Topic, "+#") {
				v.errf(pf+".topic", "%q: a publication needs a topic without wildcards", p.Topic)
			}
			if p.QoS != 0 && p.QoS != 1 {
				v.errf(pf+".qos", "%d: the broker publishes with QoS 0 or 1", p.QoS)
			}
			if p.At < 0 {
				v.errf(pf+".at", "must not be negative, got %s", p.At)
			}
		}
	}
}

func (v *validator) mipIndex(f string, m *MIPIndex, claim func(field string, port int)) {
	claim(f+".port", m.Port)
	for i, p := range m.Packages {
		pf := fmt.Sprintf("%s.packages[%d]", f, i)
		if p.Name == "" || strings.ContainsAny(p.Name, "/ ") {
			v.errf(pf+".name", "%q: a package needs a name without slashes or spaces", p.Name)
		}
		if p.Version == "latest" || strings.ContainsAny(p.Version, "/ ") {
			v.errf(pf+".version", "%q: give a version like 1.0.0 (the last one listed is latest)", p.Version)
		}
		for j, fl := range p.Files {
			ff := fmt.Sprintf("%s.files[%d]", pf, j)
			if fl.Path == "" || path.Clean(fl.Path) != fl.Path || strings.HasPrefix(fl.Path, "/") || strings.HasPrefix(fl.Path, "..") {
				v.errf(ff+".path", "%q: write a clean path relative to /lib, like \"pkg/__init__.py\"", fl.Path)
			}
			if (fl.Content == "") == (fl.File == "") {
				v.errf(ff, "set content or file (exactly one)")
			}
		}
	}
}

// netlibExpect validates http_requested and mqtt_published.
func (v *validator) netlibExpect(f string, e *Expect) {
	if h := e.HTTPRequested; h != nil {
		v.hostRef(f+".http_requested.host", h.Host)
		if h.BodyMatches != "" {
			if _, err := regexp.Compile(h.BodyMatches); err != nil {
				v.errf(f+".http_requested.body_matches", "bad regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			}
		}
	}
	if m := e.MQTTPublished; m != nil {
		v.hostRef(f+".mqtt_published.broker", m.Broker)
		if m.Topic == "" {
			v.errf(f+".mqtt_published.topic", "missing: the topic the broker must receive")
		}
		if m.Count < 0 {
			v.errf(f+".mqtt_published.count", "must not be negative, got %d", m.Count)
		}
		if m.PayloadMatches != "" {
			if _, err := regexp.Compile(m.PayloadMatches); err != nil {
				v.errf(f+".mqtt_published.payload_matches", "bad regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			}
		}
	}
}

// describeNetlib describes http_requested and mqtt_published; "" for
// other expectations.
func describeNetlib(e Expect) string {
	if h := e.HTTPRequested; h != nil {
		what := "a request"
		if h.Method != "" {
			what = h.Method
		}
		if h.Path != "" {
			what += " " + h.Path
		}
		if h.Body != "" {
			what += fmt.Sprintf(" with body containing %q", h.Body)
		}
		if h.BodyMatches != "" {
			what += fmt.Sprintf(" with body matching /%s/", h.BodyMatches)
		}
		return fmt.Sprintf("%s received %s", h.Host, what)
	}
	if m := e.MQTTPublished; m != nil {
		what := "a message"
		if m.Count > 1 {
			what = fmt.Sprintf("%d messages", m.Count)
		}
		s := fmt.Sprintf("broker %s received %s on %s", m.Broker, what, m.Topic)
		if m.Payload != "" {
			s += fmt.Sprintf(" containing %q", m.Payload)
		}
		if m.PayloadMatches != "" {
			s += fmt.Sprintf(" matching /%s/", m.PayloadMatches)
		}
		return s
	}
	return ""
}
