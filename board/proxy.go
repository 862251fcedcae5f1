package board

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/esp8266sim/esp8266sim/board/hostabi"
)

// The JS-proxy protocol of ports/webassembly (proxy_c.c, objjsproxy.c,
// proxy_js.js at v1.27.0), host side. A value crossing the boundary is three
// 32-bit words: a kind and two payload words.

// Kinds written by the firmware (Python → host).
const (
	mpException = -1
	mpNull      = 0
	mpNone      = 1
	mpBool      = 2
	mpInt       = 3
	mpFloat     = 4
	mpStr       = 5
	mpCallable  = 6
	mpGenerator = 7
	mpObject    = 8
	mpJSProxy   = 9
	mpExisting  = 10
)

// Kinds written by the host (host → Python).
const (
	jsUndefined      = 0
	jsNull           = 1
	jsBoolean        = 2
	jsInteger        = 3
	jsDouble         = 4
	jsString         = 5
	jsObjectExisting = 6
	jsObject         = 7
	jsPyProxy        = 8
)

// Fixed JS references.
const (
	refGlobalThis = 0
	refUndefined  = 1
)

// jsRefs is the board's table of host objects the firmware holds JsProxy
// objects for (proxy_js_ref in the JavaScript original).
type jsRefs struct {
	objs []any
	// keyOf names each live reference (debugging aid).
	keyOf map[uint32]string
	next  uint32
	// pendingFree lists firmware handles (proxy_c_ref) of Python objects
	// passed to host functions, released at the next host call.
	pendingFree []uint32
}

type hostModuleRef struct{ name string }

type hostFuncRef struct {
	module, name string
	fn           hostabi.HostFunc
}

func newJSRefs() jsRefs {
	return jsRefs{objs: []any{nil, undefinedT{}}, keyOf: map[uint32]string{}, next: 2}
}

// ref returns a new reference to hand the firmware for obj (key names it
// for debugging). It never answers "existing" (jsObjectExisting), though
// the JavaScript original does: the firmware's proxy table can lose a
// proxy the host still counts as live (its creation fails with
// MemoryError, or the heap is exhausted around it), and the firmware
// then reads a stale slot — after heap exhaustion every later
// _sock.socket() failed with "'socket' object isn't callable". A fresh
// reference costs the firmware one small proxy per lookup, which the
// board's GC frees (proxy_js_free_obj releases the host's slot).
func (r *jsRefs) ref(key string, obj any) (kind int32, ref uint32) {
	for r.next < uint32(len(r.objs)) && r.objs[r.next] != nil {
		r.next++
	}
	id := r.next
	if id == uint32(len(r.objs)) {
		r.objs = append(r.objs, obj)
	} else {
		r.objs[id] = obj
	}
	r.next = id + 1
	r.keyOf[id] = key
	return jsObject, id
}

func (r *jsRefs) get(id uint32) any {
	if int(id) < len(r.objs) {
		return r.objs[id]
	}
	return nil
}

func (r *jsRefs) free(id uint32) {
	if id < 2 || int(id) >= len(r.objs) {
		return
	}
	obj := r.objs[id]
	r.objs[id] = nil
	delete(r.keyOf, id)
	if id < r.next {
		r.next = id
	}
	// The firmware's collector freed its proxy (sockfinal.go).
	if f, ok := obj.(hostFinaliser); ok {
		f.Finalise()
	}
}

// readMP decodes a value the firmware wrote (Python → host). Object handles
// are queued to be released after the call.
func (b *Board) readMP(addr uint32) (Value, error) {
	g := b.guest()
	kind := int32(g.U32(addr))
	switch kind {
	case mpNone:
		return nil, nil
	case mpBool:
		return g.U32(addr+4) != 0, nil
	case mpInt:
		return int64(int32(g.U32(addr + 4))), nil
	case mpFloat:
		lo, hi := g.U32(addr+4), g.U32(addr+8)
		return math.Float64frombits(uint64(hi)<<32 | uint64(lo)), nil
	case mpStr:
		n, p := g.U32(addr+4), g.U32(addr+8)
		data, ok := g.Read(p, n)
		if !ok {
			return nil, fmt.Errorf("string outside memory")
		}
		return string(data), nil
	case mpJSProxy:
		id := g.U32(addr + 4)
		if id == refUndefined {
			return Undefined, nil
		}
		return hostObj{id}, nil
	case mpCallable, mpGenerator, mpObject:
		ref := g.U32(addr + 4)
		b.refs.pendingFree = append(b.refs.pendingFree, ref)
		return hostabi.NewPyObject(ref), nil
	case mpException:
		n, p := g.U32(addr+4), g.U32(addr+8)
		data, _ := g.Read(p, n)
		text := string(data)
		b.callFree(p)
		return nil, &guestException{text: text}
	}
	return nil, fmt.Errorf("unexpected value kind %d", kind)
}

// hostObj is a reference to one of our own objects coming back from Python.
type hostObj struct{ id uint32 }

// guestException is a Python exception converted to text by the firmware
// (proxy_convert_mp_to_js_exc_cside): "Type\x04traceback text".
type guestException struct{ text string }

func (e *guestException) Error() string { return e.text }

func (e *guestException) split() (typ, text string) {
	for i := 0; i < len(e.text); i++ {
		if e.text[i] == 4 {
			return e.text[:i], e.text[i+1:]
		}
	}
	return "", e.text
}

// writeJS encodes v for the firmware (host → Python).
func (b *Board) writeJS(ctx context.Context, out uint32, v Value) {
	g := b.guest()
	put := func(kind int32, w1, w2 uint32) {
		g.PutU32(out, uint32(kind))
		g.PutU32(out+4, w1)
		g.PutU32(out+8, w2)
	}
	switch x := v.(type) {
	case nil:
		put(jsNull, 0, 0)
	case undefinedT:
		put(jsUndefined, 0, 0)
	case bool:
		if x {
			put(jsBoolean, 1, 0)
		} else {
			put(jsBoolean, 0, 0)
		}
	case int:
		b.writeInt(put, int64(x))
	case int64:
		b.writeInt(put, x)
	case int32:
		b.writeInt(put, int64(x))
	case uint32:
		b.writeInt(put, int64(x))
	case uint16:
		b.writeInt(put, int64(x))
	case uint8:
		b.writeInt(put, int64(x))
	case float64:
		bits := math.Float64bits(x)
		put(jsDouble, uint32(bits), uint32(bits>>32))
	case string:
		p := b.malloc(ctx, uint32(len(x)+1))
		if p == 0 {
			b.setPending(&PyError{Type: "MemoryError"})
			put(jsUndefined, 0, 0)
			return
		}
		g.PutCString(p, x)
		put(jsString, uint32(len(x)), p)
	case PyObject:
		put(jsPyProxy, x.Ref(), 0)
	case hostModuleRef:
		kind, id := b.refs.ref("mod:"+x.name, x)
		put(kind, id, 0)
	case hostFuncRef:
		kind, id := b.refs.ref("fn:"+x.module+"."+x.name, x)
		put(kind, id, 0)
	case hostFinaliser:
		kind, id := b.refs.ref(fmt.Sprintf("fin:%T", x), x)
		put(kind, id, 0)
	default:
		b.setPending(TypeError(fmt.Sprintf("host returned unsupported value %T", v)).(*PyError))
		put(jsUndefined, 0, 0)
	}
}

func (b *Board) writeInt(put func(int32, uint32, uint32), v int64) {
	if v >= math.MinInt32 && v <= math.MaxInt32 {
		put(jsInteger, uint32(int32(v)), 0)
		return
	}
	bits := math.Float64bits(float64(v))
	put(jsDouble, uint32(bits), uint32(bits>>32))
}

func (b *Board) malloc(ctx context.Context, n uint32) uint32 {
	res, err := b.fn.malloc.Call(ctx, uint64(n))
	if err != nil {
		panic(err)
	}
	return uint32(res[0])
}

func (b *Board) callFree(p uint32) {
	if p == 0 {
		return
	}
	if _, err := b.fn.free.Call(b.runCtx, uint64(p)); err != nil {
		panic(err)
	}
}

// releasePyRefs drops the firmware's handles for Python objects passed to
// host functions earlier.
func (b *Board) releasePyRefs(ctx context.Context) {
	for len(b.refs.pendingFree) > 0 {
		ref := b.refs.pendingFree[0]
		b.refs.pendingFree = b.refs.pendingFree[1:]
		if _, err := b.topCall(ctx, b.fn.freeObj, uint64(ref)); err != nil {
			panic(err)
		}
	}
}

type pendingError struct {
	typ string
	arg Value
}

func (b *Board) setPending(e *PyError) { b.pending = &pendingError{typ: e.Type, arg: e.Arg} }

// invokeHost runs a host function for the firmware and writes its result.
func (b *Board) invokeHost(ctx context.Context, target any, args []Value, kw bool, out uint32) {
	f, ok := target.(hostFuncRef)
	if !ok {
		b.setPending(TypeError("'JsProxy' object isn't callable").(*PyError))
		b.writeJS(ctx, out, Undefined)
		return
	}
	if kw {
		b.setPending(TypeError("function doesn't take keyword arguments").(*PyError))
		b.writeJS(ctx, out, Undefined)
		return
	}
	v, err := b.runHostFunc(f, args)
	if err != nil {
		if isStop(err) {
			panic(err)
		}
		pe, ok := err.(*PyError)
		if !ok {
			pe = &PyError{Type: "OSError", Arg: int64(eIO)}
			b.hostFault = fmt.Errorf("%s.%s: %w", f.module, f.name, err)
		}
		b.setPending(pe)
		v = Undefined
	}
	b.writeJS(ctx, out, v)
}

// hostPanic is how a Go panic inside a host function leaves the guest: the
// run ends with an error that names the function and carries the stack.
type hostPanic struct {
	fn    string
	value any
	stack []byte
}

func (p *hostPanic) Error() string {
	return fmt.Sprintf("host function %s panicked: %v\n%s", p.fn, p.value, p.stack)
}

func (b *Board) runHostFunc(f hostFuncRef, args []Value) (v Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok && isStop(e) {
				panic(r)
			}
			panic(&hostPanic{fn: f.module + "." + f.name, value: r, stack: debug.Stack()})
		}
	}()
	b.cpuHostCall()
	if r := b.setupRec; r != nil {
		name := f.module + "." + f.name
		r.calls[name]++
		v, err = f.fn(b, args)
		if len(args) == 0 && err == nil && !pureSetupCalls[name] {
			r.replay = append(r.replay, setupCall{f, fmt.Sprintf("%#v", v)})
		}
		return v, err
	}
	return f.fn(b, args)
}

// ---- env imports ----

type goFn = func(ctx context.Context, m api.Module, stack []uint64)

var envFuncNames []string

func defineEnv(env wazero.HostModuleBuilder) {
	i32 := api.ValueTypeI32
	def := func(name string, params, results []api.ValueType, fn goFn) {
		envFuncNames = append(envFuncNames, name)
		env.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) {
			noteHost(ctx, name)
			fn(ctx, m, s)
		}), params, results).Export(name)
	}
	p := func(n int) []api.ValueType {
		out := make([]api.ValueType, n)
		for i := range out {
			out[i] = i32
		}
		return out
	}
	r1 := []api.ValueType{i32}
	envFuncNames = envFuncNames[:0]

	def("_abort_js", nil, nil, func(ctx context.Context, m api.Module, s []uint64) {
		panic(fmt.Errorf("firmware aborted"))
	})
	def("emscripten_resize_heap", p(1), r1, func(ctx context.Context, m api.Module, s []uint64) {
		s[0] = 0 // the board's memory never grows: the heap budget is fixed
	})
	def("mp_js_ticks_ms", nil, r1, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		if err := b.timeRead(); err != nil && isStop(err) {
			panic(err)
		}
		b.collectIfPending(ctx)
		s[0] = uint64(uint32(b.Uptime().Milliseconds()))
	})
	def("mp_js_time_ms", nil, []api.ValueType{api.ValueTypeF64}, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		s[0] = math.Float64bits(float64(b.clock.Now().UnixMilli()))
	})
	def("mp_js_random_u32", nil, r1, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		v := b.rng.Uint32()
		if b.setupRec != nil {
			b.setupRec.randoms = append(b.setupRec.randoms, v)
		}
		s[0] = uint64(v)
	})
	def("has_attr", p(2), r1, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		_, ok := b.attr(uint32(s[0]), b.guest().CString(uint32(s[1])))
		s[0] = 0
		if ok {
			s[0] = 1
		}
	})
	def("lookup_attr", p(3), r1, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		b.enterHost(ctx)
		v, ok := b.attr(uint32(s[0]), b.guest().CString(uint32(s[1])))
		if !ok {
			s[0] = 0
			return
		}
		b.writeJS(ctx, uint32(s[2]), v)
		s[0] = 1
	})
	def("store_attr", p(3), nil, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		b.enterHost(ctx)
		_, _ = b.readMP(uint32(s[2])) // host modules are read-only; ignore
	})
	call := func(ctx context.Context, fref uint32, via bool, argAddrs []uint32, kw bool, out uint32) {
		b := boardFrom(ctx)
		b.enterHost(ctx)
		args := make([]Value, 0, len(argAddrs))
		for _, a := range argAddrs {
			v, err := b.readMP(a)
			if err != nil {
				v = nil
			}
			args = append(args, v)
		}
		b.collectIfPending(ctx)
		if via && len(args) > 0 {
			args = args[1:] // the receiver of a bound JS method
		}
		b.invokeHost(ctx, b.refs.get(fref), args, kw, out)
	}
	def("call0", p(2), nil, func(ctx context.Context, m api.Module, s []uint64) {
		call(ctx, uint32(s[0]), false, nil, false, uint32(s[1]))
	})
	def("call1", p(4), r1, func(ctx context.Context, m api.Module, s []uint64) {
		call(ctx, uint32(s[0]), uint32(s[1]) != 0, []uint32{uint32(s[2])}, false, uint32(s[3]))
		s[0] = 0
	})
	def("call2", p(5), r1, func(ctx context.Context, m api.Module, s []uint64) {
		call(ctx, uint32(s[0]), uint32(s[1]) != 0, []uint32{uint32(s[2]), uint32(s[3])}, false, uint32(s[4]))
		s[0] = 0
	})
	def("calln", p(5), r1, func(ctx context.Context, m api.Module, s []uint64) {
		n := uint32(s[2])
		if n > 64 {
			n = 64
		}
		addrs := make([]uint32, n)
		for i := range addrs {
			addrs[i] = uint32(s[3]) + uint32(i)*12
		}
		call(ctx, uint32(s[0]), uint32(s[1]) != 0, addrs, false, uint32(s[4]))
		s[0] = 0
	})
	def("call0_kwarg", p(6), nil, func(ctx context.Context, m api.Module, s []uint64) {
		call(ctx, uint32(s[0]), uint32(s[1]) != 0, nil, true, uint32(s[5]))
	})
	def("calln_kwarg", p(8), nil, func(ctx context.Context, m api.Module, s []uint64) {
		n := uint32(s[2])
		if n > 64 {
			n = 64
		}
		addrs := make([]uint32, n)
		for i := range addrs {
			addrs[i] = uint32(s[3]) + uint32(i)*12
		}
		call(ctx, uint32(s[0]), uint32(s[1]) != 0, addrs, true, uint32(s[7]))
	})
	def("js_reflect_construct", p(4), nil, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		b.setPending(TypeError("host objects can't be constructed").(*PyError))
		b.writeJS(ctx, uint32(s[3]), Undefined)
	})
	def("js_get_iter", p(2), nil, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		b.writeJS(ctx, uint32(s[1]), Undefined)
	})
	def("js_iter_next", p(2), r1, func(ctx context.Context, m api.Module, s []uint64) { s[0] = 0 })
	def("js_subscr_load", p(3), nil, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		b.writeJS(ctx, uint32(s[2]), Undefined)
	})
	def("js_subscr_store", p(3), nil, func(ctx context.Context, m api.Module, s []uint64) {})
	def("js_check_existing", p(1), r1, func(ctx context.Context, m api.Module, s []uint64) {
		s[0] = uint64(uint32(0xffffffff)) // -1: we never keep proxies of Python objects
	})
	def("proxy_js_free_obj", p(1), nil, func(ctx context.Context, m api.Module, s []uint64) {
		boardFrom(ctx).refs.free(uint32(s[0]))
	})
	def("js_get_error_info", p(3), nil, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		b.writeJS(ctx, uint32(s[1]), "Error")
		b.writeJS(ctx, uint32(s[2]), "host error")
	})
	def("js_get_proxy_js_ref_info", p(1), nil, func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		used := 0
		for _, o := range b.refs.objs {
			if o != nil {
				used++
			}
		}
		b.guest().PutU32(uint32(s[0]), uint32(len(b.refs.objs)))
		b.guest().PutU32(uint32(s[0])+4, uint32(used))
	})
	notAsync := func(ctx context.Context, m api.Module, s []uint64) {
		panic(fmt.Errorf("the board has no JavaScript event loop (promises are not supported)"))
	}
	def("create_promise", p(2), nil, notAsync)
	def("js_then_continue", p(5), nil, notAsync)
	def("js_then_reject", p(2), nil, notAsync)
	def("js_then_resolve", p(2), nil, notAsync)
	convert := func(ctx context.Context, m api.Module, s []uint64) {
		b := boardFrom(ctx)
		v, err := b.readMP(uint32(s[0]))
		if err != nil {
			v = nil
		}
		b.writeJS(ctx, uint32(s[0]), v)
	}
	def("proxy_convert_mp_to_js_then_js_to_mp_obj_jsside", p(1), nil, convert)
	def("proxy_convert_mp_to_js_then_js_to_js_then_js_to_mp_obj_jsside", p(1), nil, convert)
	defineSyscalls(def, p, r1)
}

// enterHost runs at the start of every host call that may allocate: it
// releases handles of Python objects passed to earlier calls.
func (b *Board) enterHost(ctx context.Context) {
	if len(b.refs.pendingFree) > 0 {
		b.releasePyRefs(ctx)
	}
}

// attr looks up an attribute of a host object.
func (b *Board) attr(ref uint32, name string) (Value, bool) {
	switch o := b.refs.get(ref).(type) {
	case hostModuleRef:
		b.cpuFrozenDone()
		f, v, ok := hostabi.Lookup(o.name, name)
		if !ok {
			return nil, false
		}
		if f != nil {
			return hostFuncRef{module: o.name, name: name, fn: f}, true
		}
		return v, true
	}
	return nil, false // globalThis and functions have no attributes
}

// registerModule makes a host module importable (mp_js_register_js_module).
func (b *Board) registerModule(ctx context.Context, name string) error {
	p := b.malloc(ctx, uint32(len(name)+1+12))
	if p == 0 {
		return fmt.Errorf("board %s: out of memory registering %s", b.cfg.Name, name)
	}
	b.guest().PutCString(p, name)
	val := p + uint32(len(name)+1)
	val = (val + 3) &^ 3
	if val+12 > p+uint32(len(name)+1+12) {
		// re-allocate with room for alignment
		b.callFree(p)
		p = b.malloc(ctx, uint32(len(name)+1+16))
		b.guest().PutCString(p, name)
		val = (p + uint32(len(name)+1) + 3) &^ 3
	}
	b.writeJS(ctx, val, hostModuleRef{name: name})
	_, err := b.topCall(ctx, b.fn.registerModule, uint64(p), uint64(val))
	b.callFree(p)
	if err != nil {
		return b.guestErr("registering module "+name, err)
	}
	return nil
}
