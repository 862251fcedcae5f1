package scenario

import (
	"testing"
	"time"
)

func TestScalarTypes(t *testing.T) {
	type decodeCase struct {
		in      scalar
		want    int64
		wantErr string
	}
	str := func(s string) scalar { return scalar{tag: "str", text: s} }
	num := func(s string) scalar { return scalar{tag: "int", text: s} }
	flt := func(s string) scalar { return scalar{tag: "float", text: s} }
	tests := []struct {
		name   string
		decode func(scalar) (int64, error)
		cases  []decodeCase
	}{
		{
			name: "Duration",
			decode: func(s scalar) (int64, error) {
				var d Duration
				err := d.decodeScalar(s)
				return int64(d), err
			},
			cases: []decodeCase{
				{in: str("10s"), want: int64(10 * time.Second)},
				{in: str("250ms"), want: int64(250 * time.Millisecond)},
				{in: str("1h30m"), want: int64(90 * time.Minute)},
				{in: str("-5ms"), want: int64(-5 * time.Millisecond)},
				{in: num("0"), want: 0},
				{in: num("250"), wantErr: `integer 250 has no unit: write a duration like "10s", "250ms" or "1h" (e.g. "250ms")`},
				{in: str("ten"), wantErr: `bad duration "ten": write a duration like "10s", "250ms" or "1h"`},
				{in: scalar{tag: "bool", text: "true"}, wantErr: `want a duration, got boolean true: write a duration like "10s", "250ms" or "1h"`},
			},
		},
		{
			name: "Percent (in thousandths)",
			decode: func(s scalar) (int64, error) {
				var p Percent
				err := p.decodeScalar(s)
				return int64(p * 1000), err
			},
			cases: []decodeCase{
				{in: num("10"), want: 10000},
				{in: flt("0.5"), want: 500},
				{in: str("10%"), want: 10000},
				{in: str(" 2.5 % "), want: 2500},
				{in: str("150%"), want: 150000}, // range is Validate's job
				{in: str("ten%"), wantErr: `bad percentage string "ten%": write a percentage from 0 to 100, like 10 or "10%"`},
				{in: str("NaN"), wantErr: `bad percentage string "NaN": write a percentage from 0 to 100, like 10 or "10%"`},
			},
		},
		{
			name: "Bandwidth",
			decode: func(s scalar) (int64, error) {
				var b Bandwidth
				err := b.decodeScalar(s)
				return int64(b), err
			},
			cases: []decodeCase{
				{in: str("10mbit"), want: 10_000_000},
				{in: str("500kbit"), want: 500_000},
				{in: str("1gbit"), want: 1_000_000_000},
				{in: str("64kbps"), want: 512_000},
				{in: str("1 Mbit"), want: 1_000_000},
				{in: str("1mibit"), want: 1 << 20},
				{in: num("9600"), want: 9600},
				{in: str("1.5mbit"), want: 1_500_000},
				{in: str("fast"), wantErr: `bad bandwidth string "fast": write a rate like "10mbit", "500kbit" or "64kbps"`},
				{in: str("10furlongs"), wantErr: `bad bandwidth string "10furlongs": write a rate like "10mbit", "500kbit" or "64kbps"`},
			},
		},
		{
			name: "ByteSize",
			decode: func(s scalar) (int64, error) {
				var n ByteSize
				err := n.decodeScalar(s)
				return int64(n), err
			},
			cases: []decodeCase{
				{in: num("1500"), want: 1500},
				{in: str("4kb"), want: 4000},
				{in: str("64KiB"), want: 65536},
				{in: str("1mb"), want: 1_000_000},
				{in: str("1.5b"), wantErr: `bad size string "1.5b": write a size like 1500, "4kb" or "64KiB"`},
				{in: flt("1.5"), wantErr: `want a size in bytes, got number 1.5: write a size like 1500, "4kb" or "64KiB"`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range tt.cases {
				got, err := tt.decode(c.in)
				switch {
				case c.wantErr != "":
					if err == nil || err.Error() != c.wantErr {
						t.Errorf("decode(%s) error = %v, want %s", c.in.describe(), err, c.wantErr)
					}
				case err != nil:
					t.Errorf("decode(%s): %v", c.in.describe(), err)
				case got != c.want:
					t.Errorf("decode(%s) = %d, want %d", c.in.describe(), got, c.want)
				}
			}
		})
	}
}

func TestBandwidthString(t *testing.T) {
	for in, want := range map[Bandwidth]string{10_000_000: "10mbit", 500_000: "500kbit", 1_500_000: "1500kbit", 9600: "9600bit", 0: "0bit", 2e9: "2gbit"} {
		if got := in.String(); got != want {
			t.Errorf("Bandwidth(%d).String() = %q, want %q", int64(in), got, want)
		}
		var back Bandwidth
		if err := back.UnmarshalText([]byte(want)); err != nil || back != in {
			t.Errorf("UnmarshalText(%q) = %d, %v; want %d", want, back, err, in)
		}
	}
}

func TestParseForward(t *testing.T) {
	tests := []struct {
		in   string
		want Forward
		err  bool
	}{
		{"8080:esp1:80", Forward{HostPort: 8080, Board: "esp1", BoardPort: 80}, false},
		{"udp:5005:esp1:5005", Forward{Proto: UDP, HostPort: 5005, Board: "esp1", BoardPort: 5005}, false},
		{"tcp:0.0.0.0:8080:esp1:80", Forward{Proto: TCP, HostAddr: "0.0.0.0", HostPort: 8080, Board: "esp1", BoardPort: 80}, false},
		{"127.0.0.1:8080:esp1:80", Forward{HostAddr: "127.0.0.1", HostPort: 8080, Board: "esp1", BoardPort: 80}, false},
		{"8080:esp1", Forward{}, true},
		{"x:esp1:80", Forward{}, true},
		{"8080::80", Forward{}, true},
		{"", Forward{}, true},
	}
	for _, tt := range tests {
		got, err := ParseForward(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseForward(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.err)
		}
		if err == nil {
			if back, _ := ParseForward(got.String()); back != got {
				t.Errorf("ParseForward(%q).String() = %q does not parse back", tt.in, got.String())
			}
		}
	}
}

func TestSuggest(t *testing.T) {
	valid := []string{"name", "heap", "replicas", "script"}
	for key, want := range map[string]string{
		"heep":    ` (did you mean "heap"?)`,
		"haep":    ` (did you mean "heap"?)`,
		"Name":    ` (did you mean "name"?)`,
		"replica": ` (did you mean "replicas"?)`,
		"xyzzy":   `; valid keys are heap, name, replicas, script`,
		"h":       `; valid keys are heap, name, replicas, script`,
	} {
		if got := suggest(key, valid); got != want {
			t.Errorf("suggest(%q) = %q, want %q", key, got, want)
		}
	}
}
