package sim

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/esp8266sim/esp8266sim/netstack/services"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// netlibServices are the services the board's networking libraries talk
// to (requests, umqtt), kept so expectations can ask what they received.
type netlibServices struct {
	apis   []*services.HTTPAPI
	broker *services.MQTTBroker
}

// startNetlibServices starts a host's HTTP APIs and MQTT broker.
func (w *World) startNetlibServices(hn *hostNode) error {
	sv := hn.cfg.Services
	for _, a := range []struct {
		name string
		api  *scenario.API
		tls  bool
	}{{"http_api", sv.HTTPAPI, false}, {"https_api", sv.HTTPSAPI, true}} {
		if a.api == nil {
			continue
		}
		cfg := services.HTTPAPIConfig{Port: a.api.Port}
		if a.tls {
			cfg.CA = w.ca
			cfg.Names = append([]string{hn.cfg.Name}, hn.cfg.Aliases...)
		}
		for i, r := range a.api.Routes {
			body := []byte(r.Body)
			switch {
			case r.JSON != "":
				if !json.Valid([]byte(r.JSON)) {
					return fmt.Errorf("%s: routes[%d].json is not valid JSON", a.name, i)
				}
				body = []byte(r.JSON)
			case r.File != "":
				data, err := w.sc.ReadFile(r.File)
				if err != nil {
					return fmt.Errorf("%s: routes[%d]: %w", a.name, i, err)
				}
				body = data
			}
			cfg.Routes = append(cfg.Routes, services.APIRoute{
				Method: r.Method, Path: r.Path, Status: r.Status, Body: body, ContentType: r.ContentType,
				Headers: r.Headers, Echo: r.Echo, Location: r.Location, Chunked: r.Chunked,
			})
		}
		api, err := hn.host.AddHTTPAPI(cfg)
		if err != nil {
			return fmt.Errorf("%s: %w", a.name, err)
		}
		hn.netlib.apis = append(hn.netlib.apis, api)
	}
	if m := sv.MIP; m != nil {
		cfg := services.MIPIndexConfig{Port: m.Port, CA: w.ca, Names: append([]string{hn.cfg.Name}, hn.cfg.Aliases...)}
		for _, p := range m.Packages {
			pkg := services.MIPPackage{Name: p.Name, Version: p.Version}
			for _, f := range p.Files {
				data := []byte(f.Content)
				if f.File != "" {
					var err error
					if data, err = w.sc.ReadFile(f.File); err != nil {
						return fmt.Errorf("mip: package %s: %w", p.Name, err)
					}
				}
				pkg.Files = append(pkg.Files, services.MIPFile{Path: f.Path, Data: data})
			}
			for _, d := range p.Deps {
				name, version, _ := strings.Cut(d, "@")
				if version == "" {
					version = "latest"
				}
				pkg.Deps = append(pkg.Deps, [2]string{name, version})
			}
			cfg.Packages = append(cfg.Packages, pkg)
		}
		api, err := hn.host.AddMIPIndex(cfg)
		if err != nil {
			return fmt.Errorf("mip: %w", err)
		}
		hn.netlib.apis = append(hn.netlib.apis, api)
	}
	if m := sv.MQTT; m != nil {
		broker, err := hn.host.AddMQTT(services.MQTTConfig{Port: m.Port, Username: m.Username, Password: m.Password})
		if err != nil {
			return fmt.Errorf("mqtt: %w", err)
		}
		hn.netlib.broker = broker
		for _, p := range m.Publish {
			w.clock.AfterFunc(p.At.D(), func() {
				if err := broker.Publish(p.Topic, []byte(p.Payload), byte(p.QoS), p.Retain); err != nil {
					w.trace.Add(w.clock.Elapsed(), hn.cfg.Name, "mqtt publication not sent: "+err.Error())
				}
			})
		}
	}
	return nil
}

// checkNetlib decides http_requested and mqtt_published at the end of a
// run: whether it passed, and the reason either way.
func (w *World) checkNetlib(e scenario.Expect) (ok bool, pass, fail string) {
	if h := e.HTTPRequested; h != nil {
		hn := w.hosts[h.Host]
		if hn == nil {
			return false, "", fmt.Sprintf("unknown host %q", h.Host)
		}
		var re *regexp.Regexp
		if h.BodyMatches != "" {
			re = regexp.MustCompile(h.BodyMatches)
		}
		var seen []string
		for _, api := range hn.netlib.apis {
			for _, r := range api.Requests() {
				if e.Within > 0 && r.At > e.Within.D() {
					continue
				}
				if (h.Method == "" || strings.EqualFold(h.Method, r.Method)) && (h.Path == "" || h.Path == r.Path) &&
					strings.Contains(string(r.Body), h.Body) && (re == nil || re.Match(r.Body)) {
					return true, fmt.Sprintf("%s %s at %s answered %d", r.Method, r.Path, fmtTime(r.At), r.Status), ""
				}
				seen = append(seen, fmt.Sprintf("%s %s %q", r.Method, r.Path, clip(string(r.Body), 60)))
			}
		}
		if len(seen) == 0 {
			return false, "", h.Host + " received no HTTP API request"
		}
		return false, "", fmt.Sprintf("no matching request among %d: %s", len(seen), clip(strings.Join(seen, "; "), 300))
	}
	if m := e.MQTTPublished; m != nil {
		hn := w.hosts[m.Broker]
		if hn == nil || hn.netlib.broker == nil {
			return false, "", fmt.Sprintf("%s runs no MQTT broker", m.Broker)
		}
		var re *regexp.Regexp
		if m.PayloadMatches != "" {
			re = regexp.MustCompile(m.PayloadMatches)
		}
		want := max(m.Count, 1)
		var got []services.MQTTMessage
		var seen []string
		for _, msg := range hn.netlib.broker.Published() {
			if e.Within > 0 && msg.At > e.Within.D() {
				continue
			}
			if msg.Topic == m.Topic && strings.Contains(string(msg.Payload), m.Payload) && (re == nil || re.Match(msg.Payload)) {
				got = append(got, msg)
				continue
			}
			seen = append(seen, fmt.Sprintf("%s %q", msg.Topic, clip(string(msg.Payload), 40)))
		}
		if len(got) >= want {
			return true, fmt.Sprintf("%d received, the first at %s from %q", len(got), fmtTime(got[0].At), got[0].Client), ""
		}
		return false, "", fmt.Sprintf("%d matching of %d wanted; others: %s", len(got), want, clip(strings.Join(seen, "; "), 300))
	}
	return false, "", "unknown expectation"
}
