//! The vendored QuickJS's changes to objects (see vendor/rquickjs-sys/README.md). Shape
//! chains (`JSShape.parent`): objects built the same way share one shape, property
//! operations stay correct when shared shapes diverge, the cycle collector still frees
//! cycles that run through a shape, a dictionary-like object does not keep a shape per key,
//! and a runtime's links are bounded. Fields added directly (`OP_define_field`) keep their
//! semantics.

use rquickjs::{Context, Runtime};

fn fresh() -> (Runtime, Context) {
    let runtime = Runtime::new().unwrap();
    let context = Context::full(&runtime).unwrap();
    (runtime, context)
}

fn shapes_and_objects(runtime: &Runtime) -> (i64, i64) {
    runtime.run_gc();
    let usage = runtime.memory_usage();
    (usage.shape_count, usage.obj_count)
}

#[test]
fn objects_built_the_same_way_share_their_shapes() {
    let (runtime, context) = fresh();
    let (before, _) = shapes_and_objects(&runtime);
    context.with(|ctx| {
        ctx.eval::<(), _>(
            "globalThis.kept = []; for (let i = 0; i < 10000; i++) { kept.push({ externalId: 'e' + i, \
             data: { firstName: 'Ada', lastName: 'L', email: `a${i}@x`, fte: 0.8, active: true, \
             teamAllocations: [{ teamId: 'T', fte: 0.5, startDate: '2024-01-01' }] } }); }",
        )
        .unwrap();
    });
    let (after, _) = shapes_and_objects(&runtime);
    // Each shape on the way exists once, shared (a shape of its own per object would be
    // 30,000 here).
    assert!(after - before < 100, "{} shapes for 30,000 objects built 3 ways", after - before);
    context.with(|ctx| {
        let sum: i64 = ctx
            .eval("kept.reduce((n, r) => n + (r.data.email.length + r.data.teamAllocations[0].teamId.length), 0)")
            .unwrap();
        assert_eq!(sum, (0..10000).map(|i: i64| format!("a{i}@x").len() as i64 + 1).sum::<i64>());
    });
}

#[test]
fn shared_shapes_diverge_correctly() {
    let (_runtime, context) = fresh();
    context.with(|ctx| {
        let answer: String = ctx
            .eval(
                r#"
                const make = (n) => { const o = {}; o.a = n; o.b = n + 1; o.c = n + 2; return o; };
                const x = make(1), y = make(10), z = make(100);
                delete x.b;                                        // x leaves the shared shape
                Object.defineProperty(y, 'a', { enumerable: false }); // y changes a flag
                z.d = 'z';                                          // z extends it
                const w = make(1000); w.d = 'w'; w.e = 'e';         // w follows z, then goes on
                const v = make(7); v.e = 'v';                       // a sibling of z's step
                JSON.stringify([x, y, z, w, v, Object.keys(y), make(0)])
                "#,
            )
            .unwrap();
        assert_eq!(
            answer,
            r#"[{"a":1,"c":3},{"b":11,"c":12},{"a":100,"b":101,"c":102,"d":"z"},{"a":1000,"b":1001,"c":1002,"d":"w","e":"e"},{"a":7,"b":8,"c":9,"e":"v"},["b","c"],{"a":0,"b":1,"c":2}]"#
        );
    });
}

#[test]
fn cycles_through_a_shape_are_collected() {
    let (runtime, context) = fresh();
    let (_, objects_before) = shapes_and_objects(&runtime);
    context.with(|ctx| {
        // Each object's shape holds its prototype, which holds the object: garbage only the
        // cycle collector can free, and each shape holds its parent in the chain too.
        ctx.eval::<(), _>(
            "for (let i = 0; i < 2000; i++) { const proto = { i }; const o = Object.create(proto); \
             o.a = 1; o.b = 2; o.c = 3; proto.back = o; }",
        )
        .unwrap();
    });
    let (_, objects_after) = shapes_and_objects(&runtime);
    assert!(objects_after - objects_before < 50, "{} objects left of 4,000 garbage", objects_after - objects_before);
    // Dropping the runtime checks (QuickJS's assertions are on) that nothing leaked.
}

#[test]
fn a_dictionary_keeps_a_short_chain() {
    let (runtime, context) = fresh();
    let (before, _) = shapes_and_objects(&runtime);
    let size_before = runtime.memory_usage().shape_size;
    context.with(|ctx| {
        ctx.eval::<(), _>("globalThis.dictionary = {}; for (let i = 0; i < 5000; i++) dictionary['key' + i] = i;")
            .unwrap();
    });
    let (after, _) = shapes_and_objects(&runtime);
    let grown = runtime.memory_usage().shape_size - size_before;
    // A shape kept per key (each as long as its key's position) would be 100 MB.
    assert!(after - before < 64, "{} shapes for one dictionary", after - before);
    assert!(grown < 1 << 20, "{grown} bytes of shapes for one dictionary of 5,000 keys");
}

#[test]
fn objects_of_keys_no_other_object_shares_keep_a_bounded_number_of_chains() {
    let (runtime, context) = fresh();
    let (before, _) = shapes_and_objects(&runtime);
    context.with(|ctx| {
        // 3,000 maps of 12 keys each, no key shared: a chain kept for each would be 36,000
        // shapes; the runtime's budget of parent links stops that at 4,096.
        ctx.eval::<(), _>(
            "globalThis.maps = []; for (let i = 0; i < 3000; i++) { const m = {}; \
             for (let k = 0; k < 12; k++) m['id' + i + '_' + k] = k; maps.push(m); }",
        )
        .unwrap();
    });
    let (after, _) = shapes_and_objects(&runtime);
    assert!(after - before < 8000, "{} shapes for 3,000 maps", after - before);
    context.with(|ctx| {
        let right: bool = ctx.eval("maps[7].id7_11 === 11 && Object.keys(maps[2999]).length === 12").unwrap();
        assert!(right);
    });
}

/// Object literal fields and class fields (`OP_define_field`, which the vendored QuickJS
/// adds directly to an ordinary extensible object) keep their defining semantics.
#[test]
fn fields_are_defined_as_the_language_says() {
    let (_runtime, context) = fresh();
    context.with(|ctx| {
        for (code, expected) in [
            (
                "JSON.stringify({ a: 1, a: 2, ['b']: 3, c: 4, get d() { return 5; }, ...{ e: 6 } })",
                r#"{"a":2,"b":3,"c":4,"d":5,"e":6}"#,
            ),
            (
                "class Base { constructor() { Object.preventExtensions(this); } } class D extends Base { x = 1; } \
                 try { new D(); 'defined' } catch (error) { error.constructor.name + ': ' + error.message }",
                "TypeError: object is not extensible",
            ),
            (
                "let called = false; class A { set x(v) { called = true; } } class B extends A { x = 1; } \
                 const b = new B(); JSON.stringify([b.x, Object.keys(b), called])",
                r#"[1,["x"],false]"#,
            ),
            (
                "class C { static s = 1; #p = 2; q = this.#p + 1; get p() { return this.#p; } } \
                 const c = new C(); JSON.stringify([C.s, c.p, c.q, Object.keys(c)])",
                r#"[1,2,3,["q"]]"#,
            ),
            ("const o = Object.freeze({ a: 1 }); JSON.stringify({ ...o, b: 2, a: 3 })", r#"{"a":3,"b":2}"#),
        ] {
            let answer: String = ctx.eval(code).unwrap();
            assert_eq!(answer, expected, "{code}");
        }
    });
}
