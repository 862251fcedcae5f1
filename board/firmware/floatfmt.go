package firmware

import (
	"context"
	"math"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// The ESP8266 build keeps floats in single precision inside the object word
// (MICROPY_FLOAT_IMPL_FLOAT with MICROPY_OBJ_REPR_C) and prints them with the
// "approximate" float formatter working in single-precision arithmetic. The
// pyscript firmware we run uses doubles. floatpatch.go rounds every float
// object the firmware makes to the board's value; this file is what the
// firmware's float formatter is replaced by: the board's formatting rules,
// in float32 arithmetic, so repr, str, '%' and format() print the digits the
// board prints.
//
// The rules (py/formatfloat.c at v1.27.0, single precision, APPROX): at most
// 9 significant digits (more requested digits are zeros); a first try with
// 6 digits, checked by reading the text back (py/parsenum.c's reader, in
// float32) and comparing with the low two mantissa bits ignored (the two
// bits REPR_C does not store); a bounded search around a mantissa that does
// not read back, then one more digit, up to the limit. repr asks for "as
// many digits as needed" and switches to exponent form from 1e16.
//
// What cannot match bit for bit: the board's powf comes from its libm, ours
// is math.Pow rounded to float32; both are exact for the powers of five up
// to 5^10 that nearly every conversion uses.

const (
	FloatFormatImport = "__esp_format_float"
	FloatParseImport  = "__esp_parse_float"
)

// Board float parameters (py/formatfloat.c, py/parsenum.c for float32).
const (
	fltMaxDigits   = 9  // MAX_MANTISSA_DIGITS
	fltSafeDigits  = 6  // SAFE_MANTISSA_DIGITS
	fltMinBuf      = 6  // FPMIN_BUF_SIZE: "+9e+99"
	fltReprPrec    = 99 // MP_FLOAT_REPR_PREC: the magic precision repr asks for
	fltMantMax     = 0x19999998
	fltExactPow5   = 10 // 5^10 is the largest power of five a float32 holds
	fltReprExpZero = 16 // repr switches to exponent form from 1e16
)

// reprC is the value a float object holds on the board: the two low
// mantissa bits are not stored, and reading the object fills them with a
// copy of the two bits above them (py/obj.h, mp_obj_float_get).
func reprC(x float32) float32 {
	if x != x {
		return float32(math.NaN())
	}
	u := math.Float32bits(x) &^ 3
	return math.Float32frombits(u | (u>>2)&3)
}

// pow5 stands in for the board's powf(5, d).
func pow5(d int) float32 { return float32(math.Pow(5, float64(d))) }

// decimalExp is num·10^d the way the board computes it in float32: 2^d by
// adding to the exponent field (wrapping in its eight bits, as a C bit-field
// does), then one multiplication or division by a power of five.
func decimalExp(num float32, d int) float32 {
	if d == 0 || num == 0 {
		return num
	}
	u := math.Float32bits(num)
	exp := (u>>23 + uint32(d)) & 0xff
	r := math.Float32frombits(u&^(0xff<<23) | exp<<23)
	if d < 0 && d >= -fltExactPow5 {
		r = float32(r / pow5(-d))
	} else {
		r = float32(r * pow5(d))
	}
	return r
}

// parseBoardFloat reads an unsigned decimal the way the board's float
// reader does: digits into a 32-bit mantissa (digits past its capacity
// only move the exponent), then decimalExp.
func parseBoardFloat(s []byte) float32 {
	v, _, _ := readBoardFloat(s)
	return v
}

// readBoardFloat is the board's mp_parse_float_internal: the value, how many
// bytes it read (it stops at the first it does not know), and false for an
// exponent mark with no digits after it.
func readBoardFloat(s []byte) (float32, int, bool) {
	const (
		intg = iota
		frac
		expo
	)
	in := intg
	expNeg := false
	var mant uint32
	expVal, expExtra := 0, 0
	zInt, zFrac := 0, 0
	accept := func(d uint32, where int) {
		if mant < fltMantMax {
			if where == frac {
				expExtra--
			}
			mant = 10*mant + d
		} else if where == intg {
			expExtra++
		}
	}
	i := 0
scan:
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			d := uint32(c - '0')
			if in == expo {
				if expVal < (math.MaxInt32/2-9)/10 {
					expVal = 10*expVal + int(d)
				}
			} else if d == 0 || mant >= fltMantMax {
				if in == intg {
					zInt++
				} else {
					zFrac++
				}
			} else {
				for ; zInt > 0; zInt-- {
					accept(0, intg)
				}
				for ; zFrac > 0; zFrac-- {
					accept(0, frac)
				}
				accept(d, in)
			}
		case in == intg && c == '.':
			in = frac
		case in != expo && c|0x20 == 'e':
			in = expo
			if i+1 < len(s) && (s[i+1] == '+' || s[i+1] == '-') {
				expNeg = s[i+1] == '-'
				i++
			}
			if i+1 == len(s) {
				return 0, i + 1, false
			}
		case c == '_':
		default:
			break scan
		}
	}
	if expNeg {
		expVal = -expVal
	}
	expVal += expExtra + zInt
	return decimalExp(float32(mant), expVal), i, true
}

// fltDiff is the board's comparison of a read-back value with the value
// being printed: both without their two low bits.
func fltDiff(x, y float32) float32 {
	a := math.Float32frombits(math.Float32bits(x) &^ 3)
	b := math.Float32frombits(math.Float32bits(y) &^ 3)
	return float32(a - b)
}

func fltIsZero(x float32) bool { return math.Float32bits(x) == 0 }

const (
	fmtModeE = 0x01
	fmtModeG = 0x02
	fmtModeF = 0x04
	fmtECase = 0x20
)

// layoutMantissa renders a decimal mantissa by the board's layout rules
// (fixed, exponent or general form; the zeros 'g' strips; exponent digits)
// and appends it to prefix.
func layoutMantissa(prefix []byte, mant, mantCap uint32, numDigits, maxExpZeros, trailZeros, dec, e, flags int) []byte {
	out := prefix
	if mant != 0 && mant >= mantCap {
		if flags&fmtModeF != 0 {
			numDigits++
			dec++
		} else {
			mant /= 10
			e++
		}
	}
	if flags&fmtModeG != 0 && e != 0 {
		if e >= 0 {
			if e < maxExpZeros {
				dec += e
				if dec >= numDigits {
					trailZeros = dec - (numDigits - 1)
				}
				e = 0
			}
		} else if e >= -4 {
			cnt := 0
			for e < 0 && mant%10 == 0 {
				mant /= 10
				cnt++
				e++
			}
			numDigits -= cnt
			out = append(out, '0', '.')
			for z := cnt - e - 1; z > 0; z-- {
				out = append(out, '0')
			}
			dec = 255
			e = 0
		}
	}
	if numDigits < 0 {
		numDigits = 0
	}
	digits := make([]byte, numDigits)
	for d := numDigits - 1; d >= 0; d-- {
		digits[d] = '0' + byte(mant%10)
		mant /= 10
	}
	dot := dec >= 255
	if dec+1 < numDigits && dec >= 0 {
		dot = true
		out = append(out, digits[:dec+1]...)
		out = append(out, '.')
		out = append(out, digits[dec+1:]...)
	} else {
		out = append(out, digits...)
	}
	if trailZeros > 0 {
		dec -= numDigits - 1
		for ; trailZeros > 0; trailZeros-- {
			if dec == 0 {
				out = append(out, '.')
				dot = true
			}
			dec--
			out = append(out, '0')
		}
	}
	if flags&fmtModeG != 0 && dot {
		for len(out) > 0 && out[len(out)-1] == '0' {
			out = out[:len(out)-1]
		}
		if len(out) > 0 && out[len(out)-1] == '.' {
			out = out[:len(out)-1]
		}
	}
	if (e != 0 || flags&fmtModeE != 0) && flags&fmtModeF == 0 {
		out = append(out, 'E'|byte(flags&fmtECase))
		if e >= 0 {
			out = append(out, '+')
		} else {
			out = append(out, '-')
			e = -e
		}
		if e >= 100 {
			out = append(out, '0'+byte(e/100%10))
		}
		out = append(out, '0'+byte(e/10%10), '0'+byte(e%10))
	}
	return out
}

// formatBoardFloat is the board's mp_format_float(f, buf, bufSize, fmt,
// prec, sign): the text it writes (sign included, no NUL).
func formatBoardFloat(f64 float64, bufSize int, fmtc byte, prec int, sign byte) []byte {
	f := float32(f64)
	var out []byte
	if math.Signbit(float64(f)) && f == f {
		f = -f
		sign = '-'
	}
	if sign != 0 {
		out = append(out, sign)
		bufSize--
	}
	uc := fmtc & 0x20
	switch {
	case math.IsInf(float64(f), 0):
		return append(out, 'I'^uc, 'N'^uc, 'F'^uc)
	case f != f:
		return append(out, 'N'^uc, 'A'^uc, 'N'^uc)
	}
	flags := int(uc)
	switch fmtc | 0x20 {
	case 'f':
		flags |= fmtModeF
	case 'g':
		flags |= fmtModeG
	default:
		flags |= fmtModeE
	}
	if prec < 0 {
		prec = 6
	}
	maxExpZeros := min(prec, bufSize-3)
	if prec == fltReprPrec {
		prec = fltMaxDigits
		maxExpZeros = fltReprExpZero
	}

	// The decimal exponent, found from the binary one and corrected by
	// comparing with powers of ten as the board computes them.
	e := 0
	bits := math.Float32bits(f)
	if bits != 0 {
		e = int(float32(float32(int(bits>>23&0xff)-127) * float32(0.3010299956639812)))
		pos := 0
		if bits >= 0x3f800000 {
			pos = 1
		}
		step := 1
		if pos == 0 {
			step = -1
		}
		base := decimalExp(1, e+pos)
		for k := 0; k < 128 && (f >= base) == (pos == 1); k++ {
			e += step
			base = decimalExp(1, e+pos)
		}
	}

	if flags&fmtModeF != 0 && e > 0 && e+prec+2 > bufSize {
		flags ^= fmtModeF
		flags |= fmtModeG
		prec++
	}
	maxDigits, leadZeros, trailZeros := prec, 0, 0
	if flags&fmtModeF != 0 {
		if maxDigits > bufSize-3 {
			maxDigits = bufSize - 3
		}
		if e < 0 {
			if maxDigits > 2 && e < -2 {
				leadZeros = min(-e, maxDigits) - 2
				maxDigits -= leadZeros
			} else {
				maxDigits++
			}
		} else {
			maxDigits += e + 1
		}
	} else if flags&fmtModeG == 0 || maxDigits == 0 {
		maxDigits++
	}
	if maxDigits > fltMaxDigits {
		trailZeros = maxDigits - fltMaxDigits
		maxDigits = fltMaxDigits
	}
	overhead := fltMinBuf + 1
	if flags&fmtModeF != 0 {
		overhead = 3
	}
	if trailZeros > bufSize-maxDigits-overhead {
		trailZeros = max(0, bufSize-maxDigits-overhead)
	}

	numDigits := min(fltSafeDigits, maxDigits)
	for {
		prefix := out[:len(out):len(out)]
		extra := trailZeros + (maxDigits - numDigits)
		decexp, dec := 0, 0
		switch {
		case bits == 0:
		case flags&fmtModeF != 0:
			decexp = numDigits - 1
			if e < 0 {
				if leadZeros > 0 {
					prefix = append(prefix, '0', '.')
					for z := 0; z < leadZeros; z++ {
						prefix = append(prefix, '0')
					}
					decexp += leadZeros + 1
					dec = 255
				}
			} else {
				decexp -= e
				dec = e
			}
		default:
			decexp = numDigits - e - 1
		}
		mantCap := uint32(10)
		for n := 1; n < numDigits; n++ {
			mantCap *= 10
		}
		// With no wider float, the last one or two digits come from an
		// integer multiplication.
		mant := uint32(1)
		if numDigits > fltSafeDigits && decexp > 1 {
			if numDigits > fltSafeDigits+1 && decexp > 2 {
				mant, decexp = 100, decexp-2
			} else {
				mant, decexp = 10, decexp-1
			}
		}
		mant *= f32ToUint32(float32(decimalExp(f, decexp) + 0.5))

		render := func(m uint32) []byte {
			return layoutMantissa(prefix, m, mantCap, numDigits, maxExpZeros, extra, dec, e, flags)
		}
		text := render(mant)
		diff := fltDiff(parseBoardFloat(text[len(out):]), f)
		if fltIsZero(diff) {
			return text
		}
		// A bounded search for a mantissa that reads back.
		errRange := uint32(1)
		if numDigits > fltSafeDigits {
			errRange <<= 3 * uint(numDigits-fltSafeDigits)
		}
		bestDiff, bestMant := diff, mant
		retry := false
		for runs := 3 + 3*(fltMaxDigits-fltSafeDigits); runs > 0; runs-- {
			if math.Signbit(float64(diff)) {
				mant += errRange
			} else {
				mant -= errRange
			}
			text = render(mant)
			diff = fltDiff(parseBoardFloat(text[len(out):]), f)
			if fltIsZero(diff) {
				break
			}
			delta := float32(abs32(diff) - abs32(bestDiff))
			if math.Signbit(float64(delta)) || (fltIsZero(delta) && mant%10 == 0) {
				bestDiff, bestMant = diff, mant
			}
			if errRange > 1 {
				errRange >>= 1
				continue
			}
			if numDigits < maxDigits {
				numDigits++
				retry = true
				break
			}
			if mant != bestMant {
				text = render(bestMant)
			}
			break
		}
		if !retry {
			return text
		}
	}
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// f32ToUint32 converts like C's (uint32_t) cast of a float, saturating
// where C leaves the result undefined.
func f32ToUint32(x float32) uint32 {
	switch {
	case x != x || x <= 0:
		return 0
	case x >= 4294967296:
		return math.MaxUint32
	}
	return uint32(x)
}

// defineFloatFormat adds env.__esp_format_float, which the patched
// firmware's mp_format_float calls: (f64 value, buf, bufSize, fmt, prec,
// sign) → length written, without the NUL it also writes.
func defineFloatFormat(env wazero.HostModuleBuilder) {
	env.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, stack []uint64) {
		f := api.DecodeF64(stack[0])
		buf, size := api.DecodeU32(stack[1]), int(int32(api.DecodeU32(stack[2])))
		fmtc, prec, sign := byte(stack[3]), int(int32(api.DecodeU32(stack[4]))), byte(stack[5])
		if size < 1 {
			stack[0] = 0
			return
		}
		text := formatBoardFloat(f, size, fmtc, prec, sign)
		if len(text) > size-1 {
			text = text[:size-1]
		}
		m.Memory().Write(buf, append(text, 0))
		stack[0] = uint64(len(text))
	}), []api.ValueType{api.ValueTypeF64, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32},
		[]api.ValueType{api.ValueTypeI32}).Export(FloatFormatImport)
}

// defineFloatParse adds env.__esp_parse_float, which the patched firmware's
// mp_parse_float_internal calls: (str, len, result pointer) → the address
// after the last byte read, or 0 for a malformed exponent. The result is
// the board's float32 reading, as the f64 the firmware stores.
func defineFloatParse(env wazero.HostModuleBuilder) {
	env.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, stack []uint64) {
		str, n, res := api.DecodeU32(stack[0]), api.DecodeU32(stack[1]), api.DecodeU32(stack[2])
		text, ok := m.Memory().Read(str, n)
		if !ok {
			stack[0] = 0
			return
		}
		v, used, ok := readBoardFloat(text)
		if !ok {
			stack[0] = 0
			return
		}
		m.Memory().WriteFloat64Le(res, float64(v))
		stack[0] = uint64(str + uint32(used))
	}), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32},
		[]api.ValueType{api.ValueTypeI32}).Export(FloatParseImport)
}

// DefineFloatHost adds the host side of the float patch to env: the
// board's formatter and reader (floatpatch.go routes mp_format_float and
// mp_parse_float_internal to them).
func DefineFloatHost(env wazero.HostModuleBuilder) {
	defineFloatFormat(env)
	defineFloatParse(env)
}
