package sim

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/esp8266sim/esp8266sim/internal/testnames"
	"github.com/esp8266sim/esp8266sim/sim/scenario"
)

// fieldCoverage maps every field of the scenario model (Go type and file
// key; a type used in several places, such as Host or Impairment, is
// listed once) to a test that shows the field taking effect. A field
// added to the model without an entry fails TestEveryScenarioFieldIsCovered,
// so a new field cannot land untested; an entry naming a test that does not
// exist fails too. Where a link impairment's effect on frames is tested in
// netstack the entry names that test; TestLinkImpairmentsFromScenario
// shows every impairment field of a scenario reaching the link.
var fieldCoverage = map[string]string{
	// The networking libraries' services and expectations (issue #21).
	"Services.http_api":             "TestRequests",
	"API.port":                      "TestNetlibPortsAndFiles",
	"API.routes":                    "TestRequests",
	"Route.method":                  "TestRequests",
	"Route.path":                    "TestRequests",
	"Route.status":                  "TestRequests",
	"Route.json":                    "TestRequests",
	"Route.body":                    "TestRequests",
	"Route.file":                    "TestNetlibPortsAndFiles",
	"Route.echo":                    "TestRequests",
	"Route.content_type":            "TestRequests",
	"Route.headers":                 "TestRequests",
	"Route.location":                "TestRequests",
	"Route.chunked":                 "TestRequests",
	"Services.https_api":            "TestRequests",
	"Services.mqtt":                 "TestMQTTSimpleSensor",
	"Broker.port":                   "TestNetlibPortsAndFiles",
	"Broker.username":               "TestMQTTAuthAndLossyLink",
	"Broker.password":               "TestMQTTAuthAndLossyLink",
	"Broker.publish":                "TestMQTTSimpleSensor",
	"BrokerPublish.at":              "TestMQTTSimpleSensor",
	"BrokerPublish.topic":           "TestMQTTSimpleSensor",
	"BrokerPublish.payload":         "TestMQTTSimpleSensor",
	"BrokerPublish.retain":          "TestMQTTSimpleSensor",
	"BrokerPublish.qos":             "TestMQTTSimpleSensor",
	"Services.mip":                  "TestMIPInstallSurvivesReboot",
	"MIPIndex.port":                 "TestNetlibPortsAndFiles",
	"MIPIndex.packages":             "TestMIPInstallSurvivesReboot",
	"MIPPackage.name":               "TestMIPInstallSurvivesReboot",
	"MIPPackage.version":            "TestMIPInstallSurvivesReboot",
	"MIPPackage.files":              "TestMIPInstallSurvivesReboot",
	"MIPFile.path":                  "TestMIPInstallSurvivesReboot",
	"MIPFile.content":               "TestMIPInstallSurvivesReboot",
	"MIPFile.file":                  "TestNetlibPortsAndFiles",
	"MIPPackage.deps":               "TestMIPInstallSurvivesReboot",
	"Expect.http_requested":         "TestHTTPRequestedFailsWithoutMatch",
	"HTTPRequested.host":            "TestHTTPRequestedFailsWithoutMatch",
	"HTTPRequested.method":          "TestHTTPRequestedFailsWithoutMatch",
	"HTTPRequested.path":            "TestRequests",
	"HTTPRequested.body":            "TestHTTPRequestedFailsWithoutMatch",
	"HTTPRequested.body_matches":    "TestRequests",
	"Expect.mqtt_published":         "TestMQTTRobustReconnects",
	"MQTTPublished.broker":          "TestMQTTRobustReconnects",
	"MQTTPublished.topic":           "TestMQTTRobustReconnects",
	"MQTTPublished.payload":         "TestMQTTRobustReconnects",
	"MQTTPublished.payload_matches": "TestMQTTRobustReconnects",
	"MQTTPublished.count":           "TestMQTTRobustReconnects",
	"Scenario.name":                 "TestShippedScenarios", // the report names each scenario
	"Scenario.description":          "TestValidateAndList",
	"Scenario.seed":                 "TestSameSeedSameRunSeveralBoards",
	"Scenario.duration":             "TestFullScenarioRuns",
	"Scenario.time_mode":            "TestConsoleInputCtrlC",
	"Scenario.cpu":                  "TestScenarioCPUField",
	"Scenario.wifi":                 "TestMoreScenarioFieldsTakeEffect",
	"WiFi.access_points":            "TestMoreScenarioFieldsTakeEffect",
	"AccessPoint.name":              "TestMoreScenarioFieldsTakeEffect",
	"AccessPoint.ssid":              "TestMoreScenarioFieldsTakeEffect",
	"AccessPoint.security":          "TestMoreScenarioFieldsTakeEffect",
	"AccessPoint.passphrase":        "TestRememberedWiFiAndBoardRSSI",
	"AccessPoint.channel":           "TestMoreScenarioFieldsTakeEffect",
	"AccessPoint.bssid":             "TestMoreScenarioFieldsTakeEffect",
	"AccessPoint.hidden":            "TestMoreScenarioFieldsTakeEffect",
	"AccessPoint.rssi":              "TestRememberedWiFiAndBoardRSSI",
	"AccessPoint.rssi_by_board":     "TestRememberedWiFiAndBoardRSSI",
	"BoardRSSI.board":               "TestRememberedWiFiAndBoardRSSI",
	"BoardRSSI.rssi":                "TestRememberedWiFiAndBoardRSSI",
	"AccessPoint.subnet":            "TestFullScenarioRuns",
	"AccessPoint.router":            "TestFullScenarioRuns",
	"AccessPoint.dhcp":              "TestMoreScenarioFieldsTakeEffect",
	"DHCP.range_start":              "TestMoreScenarioFieldsTakeEffect",
	"DHCP.range_end":                "TestMoreScenarioFieldsTakeEffect",
	"DHCP.lease":                    "TestAccessPointFieldsFromScenario",
	"DHCP.disabled":                 "TestAccessPointFieldsFromScenario",
	"AccessPoint.max_stations":      "TestAccessPointFieldsFromScenario",
	"AccessPoint.down":              "TestMoreScenarioFieldsTakeEffect",
	"Scenario.lan_peers":            "TestShippedScenarios",
	"Host.name":                     "TestShippedScenarios",
	"Host.ip":                       "TestShippedScenarios",
	"Host.ap":                       "TestFullScenarioRuns",
	"Host.aliases":                  "TestMoreScenarioFieldsTakeEffect",
	"Host.services":                 "TestShippedScenarios",
	"Services.http":                 "TestShippedScenarios",
	"Site.port":                     "TestMoreScenarioFieldsTakeEffect",
	"Site.pages":                    "TestShippedScenarios",
	"Page.path":                     "TestShippedScenarios",
	"Page.body":                     "TestMoreScenarioFieldsTakeEffect",
	"Page.file":                     "TestShippedScenarios",
	"Page.headers":                  "TestServiceFieldsFromABoard",
	"Header.name":                   "TestServiceFieldsFromABoard",
	"Header.value":                  "TestServiceFieldsFromABoard",
	"Site.headers":                  "TestServiceFieldsFromABoard",
	"Site.http11":                   "TestHTTPSOptionsFromScenario",
	"Site.tls":                      "TestServiceFieldsFromABoard",
	"SiteTLS.cipher_suites":         "TestServiceFieldsFromABoard",
	"SiteTLS.max_version":           "TestHTTPSOptionsFromScenario",
	"SiteTLS.full_records":          "TestServiceFieldsFromABoard",
	"SiteTLS.key":                   "TestServiceFieldsFromABoard",
	"SiteTLS.self_signed":           "TestHTTPSOptionsFromScenario",
	"SiteTLS.intermediates":         "TestServiceFieldsFromABoard",
	"Host.blackhole":                "TestServiceFieldsFromABoard",
	"Page.content_type":             "TestMoreScenarioFieldsTakeEffect",
	"Page.status":                   "TestMoreScenarioFieldsTakeEffect",
	"Services.https":                "TestShippedScenarios", // client_sockets
	"Services.tcp_echo":             "TestMoreScenarioFieldsTakeEffect",
	"Services.tcp_discard":          "TestMoreScenarioFieldsTakeEffect",
	"Services.udp_echo":             "TestMoreScenarioFieldsTakeEffect",
	"Services.chat":                 "TestShippedScenarios",
	"Chat.port":                     "TestShippedScenarios",
	"Chat.mode":                     "TestChatPeerConnect",
	"Chat.board":                    "TestChatPeerConnect",
	"Chat.start":                    "TestChatPeerConnect",
	"Chat.steps":                    "TestShippedScenarios",
	"ChatStep.send":                 "TestShippedScenarios",
	"ChatStep.expect":               "TestShippedScenarios",
	"ChatStep.wait":                 "TestShippedScenarios",
	"ChatStep.close":                "TestShippedScenarios",
	"Chat.echo":                     "TestShippedScenarios",
	"Services.ntp":                  "TestMoreScenarioFieldsTakeEffect",
	"Host.faults":                   "TestHostBandwidthFaultRate",
	"HostFault.kind":                "TestHostBandwidthFaultRate", // each kind: kindCoverage
	"HostFault.port":                "TestMoreScenarioFieldsTakeEffect",
	"HostFault.after":               "TestHostFaults",
	"HostFault.bytes":               "TestMoreScenarioFieldsTakeEffect",
	"HostFault.delay":               "TestMoreScenarioFieldsTakeEffect",
	"HostFault.jitter":              "TestHostFaults",
	"HostFault.rate":                "TestHostBandwidthFaultRate",
	"HostFault.probability":         "TestMoreScenarioFieldsTakeEffect",
	"HostFault.direction":           "TestHostBandwidthFaultRate",
	"Scenario.internet_hosts":       "TestShippedScenarios",
	"Scenario.dns":                  "TestMoreScenarioFieldsTakeEffect",
	"DNS.records":                   "TestMoreScenarioFieldsTakeEffect",
	"DNSRecord.name":                "TestMoreScenarioFieldsTakeEffect",
	"DNSRecord.a":                   "TestMoreScenarioFieldsTakeEffect",
	"DNSRecord.cname":               "TestMoreScenarioFieldsTakeEffect",
	"DNS.fail":                      "TestShippedScenarios", // http_get_dns_fail
	"DNS.wrong_address":             "TestMoreScenarioFieldsTakeEffect",
	"DNS.ttl":                       "TestBoardAndDNSFieldsTakeEffect",
	"Scenario.boards":               "TestShippedScenarios",
	"Board.name":                    "TestShippedScenarios",
	"Board.profile":                 "TestUnknownProfileIsRefused", // the one model; also TestBoardAndDNSFieldsTakeEffect
	"Board.script":                  "TestShippedScenarios",
	"Board.code":                    "TestPlainScriptRunsAndExpectationsAreChecked",
	"Board.files":                   "TestMoreScenarioFieldsTakeEffect",
	"FlashFile.path":                "TestMoreScenarioFieldsTakeEffect",
	"FlashFile.from":                "TestBoardAndDNSFieldsTakeEffect",
	"FlashFile.content":             "TestMoreScenarioFieldsTakeEffect",
	"Board.heap":                    "TestHeapIsConfigurable",
	"Board.mac":                     "TestBoardAndDNSFieldsTakeEffect",
	"Board.replicas":                "TestSameSeedSameRunSeveralBoards",
	"Board.wifi":                    "TestRememberedWiFiAndBoardRSSI",
	"RememberedWiFi.ssid":           "TestRememberedWiFiAndBoardRSSI",
	"RememberedWiFi.password":       "TestRememberedWiFiAndBoardRSSI",
	"Board.rssi":                    "TestRememberedWiFiAndBoardRSSI",
	// Hardware (issue #17): devices and the expectations on them.
	"Board.devices":               "TestHardwareTraceAndReport",
	"Device.kind":                 "TestHardwareTraceAndReport",
	"Device.name":                 "TestDeviceFieldsTakeEffect",
	"Device.pin":                  "TestDeviceFieldsTakeEffect",
	"Device.presses":              "TestHardwareTraceAndReport",
	"Press.at":                    "TestHardwareTraceAndReport",
	"Press.hold":                  "TestShippedScenarios", // hw_web_gpio: Pin(0) reads 0 while held
	"Device.timeline":             "TestServoAndUARTPeerReport",
	"DeviceLevel.at":              "TestServoAndUARTPeerReport",
	"DeviceLevel.level":           "TestServoAndUARTPeerReport",
	"Device.value":                "TestDeviceFieldsTakeEffect",
	"Device.temperature":          "TestShippedScenarios", // hw_datalogger: temp=21.5
	"Device.humidity":             "TestShippedScenarios", // hw_datalogger: hum=48.2
	"Device.pressure":             "TestDeviceFieldsTakeEffect",
	"Device.addr":                 "TestDeviceFieldsTakeEffect",
	"Device.width":                "TestDeviceFieldsTakeEffect",
	"Device.height":               "TestDeviceFieldsTakeEffect",
	"Device.count":                "TestHardwareExpectationsFailWhenWrong",
	"Device.serial":               "TestDeviceFieldsTakeEffect",
	"Device.cs":                   "TestHardwareExpectationsFailWhenWrong", // hw_spi_display: the SPI panel shows the text, cs 16 has none
	"Device.dc":                   "TestShippedScenarios",                  // hw_spi_display: without D/C the panel takes data as commands and shows nothing
	"Expect.pin":                  "TestHardwareExpectationsFailWhenWrong",
	"PinExpect.pin":               "TestHardwareExpectationsFailWhenWrong",
	"PinExpect.value":             "TestHardwareExpectationsFailWhenWrong",
	"PinExpect.at":                "TestHardwareExpectationsFailWhenWrong",
	"Expect.reset_cause":          "TestHardwareExpectationsFailWhenWrong",
	"Expect.neopixel":             "TestHardwareExpectationsFailWhenWrong",
	"NeoPixelExpect.pin":          "TestHardwareExpectationsFailWhenWrong",
	"NeoPixelExpect.index":        "TestHardwareExpectationsFailWhenWrong",
	"NeoPixelExpect.color":        "TestHardwareExpectationsFailWhenWrong",
	"Expect.pwm":                  "TestHardwareExpectationsFailWhenWrong",
	"PWMExpect.pin":               "TestHardwareExpectationsFailWhenWrong",
	"PWMExpect.freq":              "TestHardwareExpectationsFailWhenWrong",
	"PWMExpect.duty":              "TestHardwareExpectationsFailWhenWrong",
	"Expect.display":              "TestHardwareExpectationsFailWhenWrong",
	"DisplayExpect.addr":          "TestHardwareExpectationsFailWhenWrong",
	"DisplayExpect.png":           "TestShippedScenarios", // hw_display_strip matches; no wrong-PNG twin yet
	"DisplayExpect.lit_min":       "TestHardwareExpectationsFailWhenWrong",
	"DisplayExpect.cs":            "TestHardwareExpectationsFailWhenWrong",
	"DisplayExpect.text":          "TestHardwareExpectationsFailWhenWrong",
	"Scenario.links":              "TestShippedScenarios", // http_get_lossy, tcp_server_lossy
	"Link.node":                   "TestShippedScenarios",
	"Link.direction":              "TestImpairmentFlagsCombineWithScenarioLinks",
	"Impairment.latency":          "TestShippedScenarios",
	"Impairment.jitter":           "TestJitterKeepsOrderUnlessReorderAsked",
	"Impairment.distribution":     "TestParseDistribution",
	"Impairment.loss":             "TestShippedScenarios",
	"Impairment.gilbert_elliott":  "TestBurstLossComesInBursts",
	"GilbertElliott.p":            "TestBurstLossComesInBursts",
	"GilbertElliott.r":            "TestBurstLossComesInBursts",
	"GilbertElliott.h":            "TestBurstLossComesInBursts",
	"GilbertElliott.k":            "TestBurstLossComesInBursts",
	"Impairment.duplicate":        "TestDuplicateDeliversTwice",
	"Impairment.reorder":          "TestJitterKeepsOrderUnlessReorderAsked",
	"Impairment.corrupt":          "TestCorruptionFailsChecksums",
	"Impairment.bandwidth":        "TestBandwidthSerializesAndQueueDrops",
	"Impairment.queue_limit":      "TestBandwidthSerializesAndQueueDrops",
	"Impairment.mtu":              "TestMTUDropsLargeFrames",
	"Impairment.down":             "TestLinkDownAndUp",
	"Scenario.forwards":           "TestForwardServesCurl",
	"Forward.proto":               "TestForwardUDPKeepsFlowsPerClient",
	"Forward.host_addr":           "TestParseForward",
	"Forward.host_port":           "TestForwardServesCurl",
	"Forward.board":               "TestForwardServesCurl",
	"Forward.board_port":          "TestForwardServesCurl",
	"Scenario.allow_host_ports":   "TestHostAccessWithNetcat",
	"Scenario.internet":           "TestInternetUDPAllowAndHostResolver",
	"Internet.mode":               "TestInternetUDPAllowAndHostResolver",
	"Internet.allow":              "TestInternetUDPAllowAndHostResolver",
	"Internet.resolve":            "TestInternetUDPAllowAndHostResolver",
	"Internet.udp_timeout":        "TestInternetUDPAllowAndHostResolver",
	"Internet.tcp_timeout":        "TestNATTableLimitAndIdleTimeouts",
	"Internet.max_flows":          "TestNATTableLimitAndIdleTimeouts",
	"Scenario.faults":             "TestTimelineFaultKindsTakeEffect",
	"Fault.at":                    "TestRSSIFaultForIsRestored",
	"Fault.for":                   "TestRSSIFaultForIsRestored",
	"Fault.kind":                  "TestTimelineFaultKindsTakeEffect", // each kind: kindCoverage
	"Fault.target":                "TestBoardResetFaultReboots",
	"Fault.ap":                    "TestFullScenarioRuns",
	"Fault.rssi":                  "TestRSSIFaultForIsRestored",
	"Fault.link":                  "TestTimelineFaultKindsTakeEffect",
	"Fault.mode":                  "TestMoreScenarioFieldsTakeEffect",
	"Fault.name":                  "TestDNSFailOneName",
	"Fault.host_fault":            "TestTimelineFaultKindsTakeEffect",
	"Scenario.console_input":      "TestConsoleInputCtrlC",
	"ConsoleInput.at":             "TestConsoleInputCtrlC",
	"ConsoleInput.board":          "TestConsoleInputCtrlC",
	"ConsoleInput.text":           "TestConsoleInputCtrlC",
	"ConsoleInput.line":           "TestConsoleInputCtrlC",
	"Scenario.expect":             "TestPlainScriptRunsAndExpectationsAreChecked",
	"Expect.console_contains":     "TestPlainScriptRunsAndExpectationsAreChecked",
	"Expect.console_matches":      "TestShippedScenarios",
	"Expect.console_not_contains": "TestQuickChecks",
	"Expect.peer_received":        "TestWithinOnPeerReceivedAndCapture",
	"PeerReceived.peer":           "TestWithinOnPeerReceivedAndCapture",
	"PeerReceived.text":           "TestWithinOnPeerReceivedAndCapture",
	"PeerReceived.port":           "TestShippedScenarios",
	"Expect.exit":                 "TestUnexpectedEndFailsVerdict",
	"ExitExpect.kind":             "TestUnexpectedEndFailsVerdict",
	"ExitExpect.type":             "TestUncaughtExceptionIsReported",
	"ExitExpect.message":          "TestUncaughtExceptionIsReported",
	"Expect.sockets_empty_at_end": "TestSocketTableAtEnd",
	"Expect.capture":              "TestWithinOnPeerReceivedAndCapture",
	"CaptureExpect.tcp_handshake": "TestWithinOnPeerReceivedAndCapture",
	"HandshakeExpect.from":        "TestWithinOnPeerReceivedAndCapture",
	"HandshakeExpect.to":          "TestWithinOnPeerReceivedAndCapture",
	"HandshakeExpect.port":        "TestWithinOnPeerReceivedAndCapture",
	"CaptureExpect.dhcp_dora":     "TestWithinOnPeerReceivedAndCapture",
	"CaptureExpect.dns_query":     "TestWithinOnPeerReceivedAndCapture",
	"Expect.sim_time":             "TestShippedScenarios",
	"TimeBounds.min":              "TestShippedScenarios",
	"TimeBounds.max":              "TestFullScenarioRuns",
	"Expect.board":                "TestSocketTableAtEnd",
	"Expect.within":               "TestWithinOnPeerReceivedAndCapture",
	"Expect.description":          "TestShippedScenarios",
}

// kindCoverage maps every value of a model field named kind whose type
// is an enum (a timeline fault's kind, a host fault's kind, an exit's
// kind) to a test that fails when that kind's effect is removed: a new
// kind without an entry fails TestEveryKindIsCovered, and so does an
// entry naming a missing test or a kind the model no longer has. Every
// test named runs the kind from a scenario and asserts what the board
// sees.
var kindCoverage = map[string]map[string]string{
	"Fault.kind": {
		"ap_down":     "TestRoamingReachesTheInternetAgain",
		"ap_up":       "TestMoreScenarioFieldsTakeEffect",
		"deauth":      "TestTimelineFaultKindsTakeEffect",
		"rssi":        "TestRSSIFaultForIsRestored",
		"link":        "TestTimelineFaultKindsTakeEffect",
		"dns_fail":    "TestDNSFailOneName",
		"dns_ok":      "TestTimelineFaultKindsTakeEffect",
		"dhcp_silent": "TestTimelineFaultKindsTakeEffect",
		"dhcp_nak":    "TestShippedScenarios", // connect_dhcp_nak: no address before 10 s
		"host_fault":  "TestHostBandwidthFaultRate",
		"host_ok":     "TestTimelineFaultKindsTakeEffect",
		"board_reset": "TestBoardResetFaultReboots",
	},
	"HostFault.kind": {
		"refuse":      "TestTimelineFaultKindsTakeEffect",
		"blackhole":   "TestRequests", // dark.sim: the request times out
		"reset_after": "TestTimelineFaultKindsTakeEffect",
		"slow_close":  "TestTimelineFaultKindsTakeEffect",
		"bandwidth":   "TestHostBandwidthFaultRate",
		"slice":       "TestMoreScenarioFieldsTakeEffect",
		"latency":     "TestTimelineFaultKindsTakeEffect",
	},
	"ExitExpect.kind": {
		"clean":     "TestUnexpectedEndFailsVerdict",
		"exception": "TestUncaughtExceptionIsReported",
		"running":   "TestUnexpectedEndFailsVerdict",
	},
}

// modelFields lists the scenario model's fields as Type.key, walking from
// Scenario through every struct of the scenario package.
func modelFields() []string {
	var out []string
	walkModel(func(key string, _ reflect.Type) { out = append(out, key) })
	return out
}

// walkModel calls visit with every field of the scenario model (Type.key)
// and the field's type, walking from Scenario through every struct of the
// scenario package.
func walkModel(visit func(key string, typ reflect.Type)) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ.PkgPath() != reflect.TypeOf(scenario.Scenario{}).PkgPath() || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if key == "-" || !f.IsExported() {
				continue
			}
			if !f.Anonymous || key != "" {
				visit(typ.Name()+"."+key, f.Type)
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeOf(scenario.Scenario{}))
}

// repoTests is every Test function name in the repository's test files.
func repoTests(t *testing.T) map[string]bool {
	t.Helper()
	names, err := testnames.In("..")
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// Every field of the scenario model has a test showing its effect.
func TestEveryScenarioFieldIsCovered(t *testing.T) {
	tests := repoTests(t)
	fields := map[string]bool{}
	for _, f := range modelFields() {
		fields[f] = true
		test, ok := fieldCoverage[f]
		switch {
		case !ok:
			t.Errorf("scenario field %s has no test: write one that fails without the field's effect and list it in fieldCoverage", f)
		case !tests[test]:
			t.Errorf("fieldCoverage[%q] names %s, which is not a test in this repository", f, test)
		}
	}
	var stale []string
	for f := range fieldCoverage {
		if !fields[f] {
			stale = append(stale, f)
		}
	}
	sort.Strings(stale)
	for _, f := range stale {
		t.Errorf("fieldCoverage lists %s, which is no longer a field of the model", f)
	}
}

// Every kind of every enum field named kind (fault kinds, host-fault
// kinds, exit kinds) has a test showing that kind's effect.
func TestEveryKindIsCovered(t *testing.T) {
	tests := repoTests(t)
	fields := map[string]bool{}
	walkModel(func(key string, typ reflect.Type) {
		values, isEnum := scenario.EnumValues(typ)
		if !isEnum || !strings.HasSuffix(key, ".kind") {
			return
		}
		fields[key] = true
		kinds := map[string]bool{}
		for _, v := range values {
			kinds[v] = true
			test, ok := kindCoverage[key][v]
			switch {
			case !ok:
				t.Errorf("%s %q has no test: write one that fails without the kind's effect and list it in kindCoverage", key, v)
			case !tests[test]:
				t.Errorf("kindCoverage[%q][%q] names %s, which is not a test in this repository", key, v, test)
			}
		}
		for v := range kindCoverage[key] {
			if !kinds[v] {
				t.Errorf("kindCoverage lists %s %q, which is no longer a value of the model", key, v)
			}
		}
	})
	for key := range kindCoverage {
		if !fields[key] {
			t.Errorf("kindCoverage lists %s, which is no longer an enum field named kind", key)
		}
	}
	if len(fields) == 0 {
		t.Error("no enum field named kind found in the model: the walk or scenario.EnumValues is broken")
	}
}
