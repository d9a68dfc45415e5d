// SPDX-License-Identifier: GPL-2.0

//! KUnit test suites written in Rust.
//!
//! 6.12 has no `#[kunit_tests]` attribute; this module provides a declarative
//! equivalent. A suite is a static `struct kunit_suite` whose address is put in
//! the `.kunit_test_suites` section, which the module loader hands to KUnit:
//! the suites of a module run when it is loaded and their KTAP results appear
//! in the kernel log and in `/sys/kernel/debug/kunit/<suite>/results`.
//!
//! ```ignore
//! kernel::kunit_tests! {
//!     suite "handoff_example";
//!
//!     fn adds() {
//!         kernel::kunit_expect_eq!(1 + 1, 2);
//!     }
//! }
//! ```
//!
//! Expectations record a failure and let the test go on, so one run shows every
//! broken property. A test that cannot continue returns early by itself.
//!
//! C header: [`include/kunit/test.h`](srctree/include/kunit/test.h)

use crate::{bindings, str::CStr};
use core::{ffi::c_void, fmt};

/// Length of `struct kunit_suite::name`, including the terminating NUL.
const SUITE_NAME_LEN: usize = 256;

/// Builds the fixed-size, NUL-terminated suite name at compile time.
///
/// Fails the build if `name` does not fit.
#[doc(hidden)]
pub const fn suite_name(name: &str) -> [crate::ffi::c_char; SUITE_NAME_LEN] {
    let bytes = name.as_bytes();
    assert!(bytes.len() < SUITE_NAME_LEN, "KUnit suite name too long");
    let mut out = [0 as crate::ffi::c_char; SUITE_NAME_LEN];
    let mut i = 0;
    while i < bytes.len() {
        out[i] = bytes[i] as crate::ffi::c_char;
        i += 1;
    }
    out
}

/// Returns a `struct kunit_case` for `run`, named `name`.
#[doc(hidden)]
pub const fn case(
    name: &'static CStr,
    run: unsafe extern "C" fn(*mut bindings::kunit),
) -> bindings::kunit_case {
    // SAFETY: `kunit_case` is a C struct of pointers, integers and enums, for
    // which all-zero bytes are a valid (empty) value.
    let mut c: bindings::kunit_case = unsafe { core::mem::zeroed() };
    c.run_case = Some(run);
    c.name = name.as_char_ptr();
    c
}

/// Returns the all-zero `struct kunit_case` that ends a case array.
#[doc(hidden)]
pub const fn case_end() -> bindings::kunit_case {
    // SAFETY: As in `case`, all-zero bytes are a valid `kunit_case`.
    unsafe { core::mem::zeroed() }
}

/// Returns a `struct kunit_suite` named `name` running the cases at `cases`.
#[doc(hidden)]
pub const fn suite(
    name: [crate::ffi::c_char; SUITE_NAME_LEN],
    cases: *mut bindings::kunit_case,
) -> bindings::kunit_suite {
    // SAFETY: `kunit_suite` is a C struct of arrays, pointers and integers,
    // for which all-zero bytes are a valid value.
    let mut s: bindings::kunit_suite = unsafe { core::mem::zeroed() };
    s.name = name;
    s.test_cases = cases;
    s
}

/// The entry of `.kunit_test_suites` that points to a suite.
///
/// # Invariants
///
/// The pointer is the address of a `static mut` suite that only KUnit accesses.
#[doc(hidden)]
#[repr(transparent)]
pub struct SuiteEntry(pub *const bindings::kunit_suite);

// SAFETY: The entry is never written, and the suite it points to is only used
// by KUnit, which serialises the runs of a suite.
unsafe impl Sync for SuiteEntry {}

/// Records a failed expectation in the KUnit test running on this thread.
///
/// Outside a KUnit test (a helper thread, or production code calling a test
/// helper by mistake) it prints the failure to the kernel log instead.
#[doc(hidden)]
pub fn report_failure(file: &CStr, line: u32, condition: &CStr, msg: fmt::Arguments<'_>) {
    // SAFETY: FFI call without safety requirements.
    let test = unsafe { bindings::kunit_get_current_test() };
    if test.is_null() {
        crate::pr_err!(
            "KUnit expectation failed outside a test at {}:{}: {}: {}\n",
            file.to_str().unwrap_or("?"),
            line,
            condition.to_str().unwrap_or("?"),
            msg
        );
        return;
    }
    let loc = bindings::kunit_loc {
        line: line as i32,
        file: file.as_char_ptr(),
    };
    let assert = bindings::kunit_unary_assert {
        assert: bindings::kunit_assert {},
        condition: condition.as_char_ptr(),
        expected_true: true,
    };
    // SAFETY: `test` is the running test (non-null, from KUnit). `loc` and
    // `assert` live until the call returns, and KUnit formats the failure
    // into the test log before returning (an expectation, unlike an
    // assertion, does not abort). The format string is NUL-terminated and
    // `%pA` takes a pointer to `fmt::Arguments`, which `msg` is.
    unsafe {
        bindings::__kunit_do_failed_assertion(
            test,
            &loc,
            bindings::kunit_assert_type_KUNIT_EXPECTATION,
            &assert.assert,
            Some(bindings::kunit_unary_assert_format),
            crate::c_str!("%pA").as_char_ptr(),
            &msg as *const fmt::Arguments<'_> as *const c_void,
        );
    }
}

/// Declares a KUnit suite of Rust tests, run when the module is loaded.
///
/// Each `fn` becomes a test case with the same name; the bodies use
/// [`kunit_expect!`](crate::kunit_expect) and friends.
#[macro_export]
macro_rules! kunit_tests {
    (suite $name:literal; $(fn $test:ident() $body:block)+) => {
        const _: () = {
            $(
                extern "C" fn $test(_test: *mut $crate::bindings::kunit) $body
            )+

            static mut CASES: [$crate::bindings::kunit_case; [$(stringify!($test)),+].len() + 1] = [
                $($crate::kunit::suite::case($crate::c_str!(stringify!($test)), $test),)+
                $crate::kunit::suite::case_end(),
            ];

            static mut SUITE: $crate::bindings::kunit_suite = $crate::kunit::suite::suite(
                $crate::kunit::suite::suite_name($name),
                // Only the address is taken: KUnit is the only user of the cases.
                ::core::ptr::addr_of_mut!(CASES).cast(),
            );

            #[used]
            #[link_section = ".kunit_test_suites"]
            static ENTRY: $crate::kunit::suite::SuiteEntry =
                $crate::kunit::suite::SuiteEntry(::core::ptr::addr_of!(SUITE));
        };
    };
}

/// Expects `cond` to be true in a KUnit test; returns whether it was.
#[macro_export]
macro_rules! kunit_expect {
    ($cond:expr $(,)?) => {{
        let ok: bool = $cond;
        if !ok {
            $crate::kunit::suite::report_failure(
                $crate::c_str!(file!()),
                line!(),
                $crate::c_str!(stringify!($cond)),
                format_args!(""),
            );
        }
        ok
    }};
}

/// Expects `left == right` in a KUnit test, printing both on failure; returns
/// whether they were equal.
#[macro_export]
macro_rules! kunit_expect_eq {
    ($left:expr, $right:expr $(,)?) => {{
        match (&$left, &$right) {
            (l, r) => {
                let ok = *l == *r;
                if !ok {
                    $crate::kunit::suite::report_failure(
                        $crate::c_str!(file!()),
                        line!(),
                        $crate::c_str!(concat!(stringify!($left), " == ", stringify!($right))),
                        format_args!("left: {:?}, right: {:?}", l, r),
                    );
                }
                ok
            }
        }
    }};
}
